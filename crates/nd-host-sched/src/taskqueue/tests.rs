//! Unit tests of the task queue's pure helpers; the service itself is tested through its
//! fixture plugin in `tests/it/taskqueue.rs`.

use super::*;

#[test]
fn backoff_doubles_per_attempt_and_is_capped_at_one_hour() {
    assert_eq!(backoff(1000, 1), 1000);
    assert_eq!(backoff(1000, 2), 2000);
    assert_eq!(backoff(1000, 4), 8000);
    assert_eq!(backoff(1000, 13), 3_600_000);
    assert_eq!(backoff(1000, 200), 3_600_000);
    assert_eq!(backoff(i64::MAX / 2, 3), 3_600_000);
}

#[test]
fn task_ids_are_22_base62_characters_and_differ() {
    let a = new_task_id().unwrap();
    let b = new_task_id().unwrap();
    assert_ne!(a, b);
    for id in [a, b] {
        assert_eq!(id.len(), 22);
        assert!(id.bytes().all(|c| c.is_ascii_alphanumeric()), "{id}");
    }
}

#[test]
fn output_json_strings_are_decoded_anything_else_kept_as_text() {
    assert_eq!(output_message(b"\"a\\nb\""), "a\nb");
    assert_eq!(output_message(b""), "");
    assert_eq!(output_message(b"{\"x\":1}"), "{\"x\":1}");
    assert_eq!(output_message(b"plain"), "plain");
}

#[test]
fn call_errors_are_worded_like_navidrome() {
    assert_eq!(
        call_error_message(&CallErrorKind::NotImplemented),
        "not implemented: nd_task_execute"
    );
    assert_eq!(
        call_error_message(&CallErrorKind::PluginError {
            message: "boom".into(),
            rc: -1
        }),
        "boom"
    );
    assert_eq!(
        call_error_message(&CallErrorKind::Exit { code: 3 }),
        "plugin call failed: exit code 3"
    );
}
