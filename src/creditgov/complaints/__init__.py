"""Complaints (投诉处理): intake from the public page, the counter and the API;
assignment to a department; deadlines in working days; the reply to the complainant;
a substantiated complaint proposed as a credit record through manual entry (four eyes,
then the ingestion pipeline); statistics by department."""
