"""Credit points (信用积分) and the points supermarket (积分超市).

Good credit turned into something people feel (the founding paper): points earned from
published evaluations, positive records and approved manual awards, kept in an
append-only ledger, and spent on partner shops' offers. See docs/points.md.
"""
