"""The ledger (台账) as people read it: `pingan export` writes it, and the monthly
briefing attaches it as XLSX.

`rows` turns stored cases (`storage.ledger`) into the rows SPEC.md's columns show,
`cells` makes resident text safe to put in a spreadsheet cell, and `files` writes
rows as CSV or XLSX.
"""
