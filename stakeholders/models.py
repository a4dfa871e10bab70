"""Stakeholders: surveys, invitations and responses; stories of connection; partnerships."""
