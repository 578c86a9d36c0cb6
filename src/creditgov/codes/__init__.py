"""The cross-region credit code (信用码): a short-lived signed statement of a subject's
grade (COSE_Sign1 in a CWT, as the EU Digital COVID Certificate), the trust list of
issuers' keys signed by the province's root, revocation lists, and the evidence a
foreign code gives the credit check (docs/codes.md)."""
