//! Per-user scrobble history, in memory and optionally appended to a JSON-lines log
//! (`{"id":1,"userId":"…","mediaFileId":"…","submissionTime":1700000000}` per line).

use std::collections::HashMap;
use std::fs::OpenOptions;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use nd_host_appdata::provider::{ScrobbleEntry, ScrobbleQuery};
use serde_json::{Value, json};

use crate::LibraryError;

#[derive(Debug, Default)]
pub(crate) struct ScrobbleStore {
    next_id: i64,
    /// Per user id, sorted by (submission time, id).
    by_user: HashMap<String, Vec<ScrobbleEntry>>,
    /// (user id, media file id) → (play count, last submission time).
    plays: HashMap<(String, String), (i64, i64)>,
    log: Option<PathBuf>,
}

impl ScrobbleStore {
    /// An empty history, or the one in `log` when that file exists. Lines that do not parse
    /// are skipped with a warning.
    pub(crate) fn open(log: Option<&Path>) -> Result<Self, LibraryError> {
        let mut store = ScrobbleStore {
            next_id: 1,
            by_user: HashMap::new(),
            plays: HashMap::new(),
            log: log.map(Path::to_path_buf),
        };
        let Some(path) = log else {
            return Ok(store);
        };
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(store),
            Err(e) => {
                return Err(LibraryError::ScrobbleLog {
                    path: path.to_path_buf(),
                    message: format!("cannot read: {e}"),
                });
            }
        };
        for (n, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            match parse_line(line) {
                Some((user, entry)) => {
                    store.next_id = store.next_id.max(entry.id + 1);
                    store.insert(user, entry);
                }
                None => tracing::warn!(
                    path = %path.display(),
                    line = n + 1,
                    "skipping a scrobble log line that does not parse"
                ),
            }
        }
        Ok(store)
    }

    fn insert(&mut self, user_id: String, entry: ScrobbleEntry) {
        let plays = self
            .plays
            .entry((user_id.clone(), entry.media_file_id.clone()))
            .or_insert((0, entry.submission_time));
        plays.0 += 1;
        plays.1 = plays.1.max(entry.submission_time);
        let list = self.by_user.entry(user_id).or_default();
        let at = list
            .partition_point(|e| (e.submission_time, e.id) <= (entry.submission_time, entry.id));
        list.insert(at, entry);
    }

    /// Records one scrobble (appending it to the log first, when there is one) and returns
    /// its id.
    pub(crate) fn record(
        &mut self,
        user_id: &str,
        media_file_id: &str,
        submission_time: i64,
    ) -> Result<i64, LibraryError> {
        let id = self.next_id;
        if let Some(path) = &self.log {
            let line = json!({
                "id": id,
                "userId": user_id,
                "mediaFileId": media_file_id,
                "submissionTime": submission_time,
            });
            let write = || -> std::io::Result<()> {
                let mut file = OpenOptions::new().create(true).append(true).open(path)?;
                file.write_all(format!("{line}\n").as_bytes())?;
                file.flush()
            };
            write().map_err(|e| LibraryError::ScrobbleLog {
                path: path.clone(),
                message: format!("cannot append: {e}"),
            })?;
        }
        self.next_id += 1;
        self.insert(
            user_id.to_owned(),
            ScrobbleEntry {
                id,
                media_file_id: media_file_id.to_owned(),
                submission_time,
            },
        );
        Ok(id)
    }

    fn entries(&self, user_id: &str) -> &[ScrobbleEntry] {
        self.by_user.get(user_id).map(Vec::as_slice).unwrap_or(&[])
    }

    pub(crate) fn first(&self, user_id: &str) -> Option<i64> {
        self.entries(user_id).first().map(|e| e.submission_time)
    }

    pub(crate) fn last(&self, user_id: &str) -> Option<i64> {
        self.entries(user_id).last().map(|e| e.submission_time)
    }

    fn window(&self, user_id: &str, from: Option<i64>, to: Option<i64>) -> &[ScrobbleEntry] {
        let all = self.entries(user_id);
        let start = from.map_or(0, |f| all.partition_point(|e| e.submission_time < f));
        let end = to.map_or(all.len(), |t| {
            all.partition_point(|e| e.submission_time <= t)
        });
        all.get(start..end.max(start)).unwrap_or(&[])
    }

    /// The window of `query`; `limit` 0 means no limit.
    pub(crate) fn query(&self, user_id: &str, query: &ScrobbleQuery) -> Vec<ScrobbleEntry> {
        let window = self.window(user_id, query.from, query.to);
        let limit = if query.limit == 0 {
            usize::MAX
        } else {
            query.limit
        };
        if query.descending {
            window
                .iter()
                .rev()
                .skip(query.offset)
                .take(limit)
                .cloned()
                .collect()
        } else {
            window
                .iter()
                .skip(query.offset)
                .take(limit)
                .cloned()
                .collect()
        }
    }

    pub(crate) fn count(&self, user_id: &str, from: Option<i64>, to: Option<i64>) -> i64 {
        i64::try_from(self.window(user_id, from, to).len()).unwrap_or(i64::MAX)
    }

    /// How often the user played the file, and when last.
    pub(crate) fn plays(&self, user_id: &str, media_file_id: &str) -> (i64, Option<i64>) {
        self.plays
            .get(&(user_id.to_owned(), media_file_id.to_owned()))
            .map_or((0, None), |&(count, last)| (count, Some(last)))
    }
}

fn parse_line(line: &str) -> Option<(String, ScrobbleEntry)> {
    let v: Value = serde_json::from_str(line).ok()?;
    Some((
        v.get("userId")?.as_str()?.to_owned(),
        ScrobbleEntry {
            id: v.get("id")?.as_i64()?,
            media_file_id: v.get("mediaFileId")?.as_str()?.to_owned(),
            submission_time: v.get("submissionTime")?.as_i64()?,
        },
    ))
}
