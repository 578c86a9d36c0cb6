"""Graded supervision (分级分类监管): policies, random draws (双随机一公开), inspection tasks, patrol lists."""
