"""Writes other than transitions: content, comments, the report, meetings' opinions,
creation and renewal, all framed by ``writes`` (the row lock and the epilogue).
"""
