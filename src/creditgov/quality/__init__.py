"""The data-quality view (数据质量): per department and source, the last file, rows,
accepted, rejected by reason, duplicates, lateness against the data request's
frequency, and the monthly trend."""
