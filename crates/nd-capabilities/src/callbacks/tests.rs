//! The task message rule (the calls themselves are tested against real plugins in `tests/it`).

use super::task_message;

#[test]
fn a_json_string_is_unquoted_and_anything_else_is_kept_as_text() {
    assert_eq!(task_message(br#""done \"ok\"""#), r#"done "ok""#);
    assert_eq!(task_message(b""), "");
    assert_eq!(task_message(b"plain words"), "plain words");
    assert_eq!(task_message(br#"{"a":1}"#), r#"{"a":1}"#);
    assert_eq!(task_message(b"42"), "42");
}
