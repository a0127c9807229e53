"""Reads: who acts on a letter, what a person may see, envelopes, the stepper and the
dashboard. Selectors never write.
"""
