//! Tests of the scheduler service through its fixture plugin.
