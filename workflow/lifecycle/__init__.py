"""The lifecycle of DESIGN §4: the table of transitions (``table``), one module per
family (concertation, councils, signature, report, withdrawal) and the engine that
fires them (``engine``).
"""
