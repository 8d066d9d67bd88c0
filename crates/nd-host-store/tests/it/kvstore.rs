//! Tests of the kvstore service through its fixture plugin.
