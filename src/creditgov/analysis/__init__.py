"""Regional analysis (研判分析): distributions, trends and grid risk, with charts."""
