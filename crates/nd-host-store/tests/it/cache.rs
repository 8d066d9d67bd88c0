//! Tests of the cache service through its fixture plugin.
