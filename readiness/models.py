"""Readiness: evidence indicators per pillar, the jobs that compute them, snapshots."""
