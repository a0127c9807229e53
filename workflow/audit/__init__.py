"""What keeps a letter's history provable: the canonical snapshot and its hash, the
stored versions, the hash-chained audit events and the PDFs archived from them.
"""
