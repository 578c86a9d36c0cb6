"""Objection (异议) and credit repair (信用修复): the procedures through which a subject
contests a record or recovers from one, counted on China's working-day calendar."""
