"""Statistics forms (统计报表): monthly and quarterly summary tables for the upper authority."""
