//! Tests of the taskqueue service through its fixture plugin.
