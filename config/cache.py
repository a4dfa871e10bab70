"""A Redis cache that answers "not cached" instead of an error when Redis is down.

The cache holds only what can be recomputed or lost (import progress between row
updates), so with Redis stopped a read misses and a write is dropped, and the page still
answers; the socket timeouts in settings keep each try to about a second.
"""

from __future__ import annotations

import logging

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

log = logging.getLogger(__name__)


class ResilientRedisCache(RedisCache):
    def get(self, key, default=None, version=None):
        try:
            return super().get(key, default, version)
        except RedisError:
            log.warning("Cache unreachable; reading %s as a miss", key)
            return default

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            super().set(key, value, timeout, version)
        except RedisError:
            log.warning("Cache unreachable; %s not stored", key)

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            return super().add(key, value, timeout, version)
        except RedisError:
            return False

    def delete(self, key, version=None):
        try:
            return super().delete(key, version)
        except RedisError:
            return False
