"""信易贷 (credit-based lending): banks and products, financing needs and matching,
consents per need, the loan book, post-loan monitoring and the risk-compensation fund.
See docs/finance.md."""
