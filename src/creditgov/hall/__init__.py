"""Service-hall windows (办事大厅信用查询、异议窗口): staff serve a visitor who signs in
at the counter — the visitor's own credit report and objections filed on its behalf."""
