"""Initiatives: the why, pillars, status workflow, milestones, budget, sign-offs, SWOT."""
