"""Credit reports (信用报告), their verification, and the read models behind dashboards."""
