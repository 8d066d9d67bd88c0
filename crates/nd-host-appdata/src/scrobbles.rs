//! The scrobbleRetriever service (spec §3.14, permission `scrobbleRetriever`, which needs
//! `users`): a user's listening history, read through the [`ScrobbleProvider`].
//!
//! | Function | Request | Response |
//! |---|---|---|
//! | `scrobbleretriever_getfirsttimestamp` / `_getlasttimestamp` | `{username}` | `{result?}` (absent with no scrobbles) |
//! | `scrobbleretriever_getscrobbles` | `{username, options: {fromTimestamp?, toTimestamp?, descending, maxItems, offset?}}` | `{scrobbles?: [{id, mediaFileId, submissionTime}], next?}` |
//! | `scrobbleretriever_getscrobblecount` | `{username, options: {fromTimestamp?, toTimestamp?}}` | `{result?}` |
//!
//! Behaviour mirrored from Navidrome's `plugins/host_scrobble_retriever.go`:
//! - `username` is resolved against the user scope with the user lookup's texts prefixed by
//!   `scrobbleRetriever: ` (the fixed `...: plugin is not authorized to scope by user` when
//!   no user is allowed at all);
//! - bounds are inclusive unix seconds; a page is ordered by (submission time, id), newest
//!   first with `descending`; `maxItems` below 1 or above 5000 means 5000 and a negative
//!   `offset` means 0;
//! - paging: the provider is asked for one entry more than the page. When it exists, `next`
//!   holds the options of the following page: the same options with the lower bound (the
//!   upper one when descending) moved to that entry's timestamp, and `offset` set to the
//!   number of entries at the end of this page that share that timestamp (plus the incoming
//!   offset when the whole page shares it), so that equal timestamps are neither repeated nor
//!   skipped. No `next` means no more pages. `next.maxItems` is the effective page size.

use std::fmt;
use std::sync::Arc;

use nd_runtime::{GoRequest, HostError, HostImports, HostService, RegisterError, json_response};
use serde_json::{Map, Value, json};

use crate::provider::{Scope, ScrobbleProvider, ScrobbleQuery, UserInfo, UserProvider};
use crate::wire::{go_int, go_opt_int64, guest, resolve_user};

/// The largest page, and the page size when `maxItems` is out of range.
pub const MAX_SCROBBLE_ITEMS: i64 = 5000;

/// Navidrome's `scrobbleRetriever` host service for one plugin's scope; see the
/// [module docs](self).
pub struct ScrobbleRetrieverService {
    inner: Arc<Inner>,
}

struct Inner {
    provider: Arc<dyn ScrobbleProvider>,
    users: Arc<dyn UserProvider>,
    scope: Scope,
}

impl fmt::Debug for ScrobbleRetrieverService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScrobbleRetrieverService")
            .field("scope", &self.inner.scope)
            .finish_non_exhaustive()
    }
}

impl ScrobbleRetrieverService {
    /// The service over `provider`'s history, for the users of `users` that `scope` allows.
    pub fn new(
        provider: Arc<dyn ScrobbleProvider>,
        users: Arc<dyn UserProvider>,
        scope: Scope,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                provider,
                users,
                scope,
            }),
        }
    }
}

impl HostService for ScrobbleRetrieverService {
    fn name(&self) -> &'static str {
        "scrobbleRetriever"
    }

    fn register(&self, imports: &mut HostImports) -> Result<(), RegisterError> {
        let inner = Arc::clone(&self.inner);
        imports.json("scrobbleretriever_getfirsttimestamp", move |_, req| {
            let req = GoRequest::parse(&req, "ScrobbleRetrieverGetFirstTimestampRequest")?;
            let user = inner.user(&req.string("username")?)?;
            timestamp(inner.provider.first_timestamp(&user).map_err(guest)?)
        });
        let inner = Arc::clone(&self.inner);
        imports.json("scrobbleretriever_getlasttimestamp", move |_, req| {
            let req = GoRequest::parse(&req, "ScrobbleRetrieverGetLastTimestampRequest")?;
            let user = inner.user(&req.string("username")?)?;
            timestamp(inner.provider.last_timestamp(&user).map_err(guest)?)
        });
        let inner = Arc::clone(&self.inner);
        imports.json("scrobbleretriever_getscrobbles", move |_, req| {
            let req = GoRequest::parse(&req, "ScrobbleRetrieverGetScrobblesRequest")?;
            let user_name = req.string("username")?;
            let options = Options::decode(&req.object("options", "ScrobbleOptions")?)?;
            let user = inner.user(&user_name)?;
            inner.scrobbles(&user, options)
        });
        let inner = Arc::clone(&self.inner);
        imports.json("scrobbleretriever_getscrobblecount", move |_, req| {
            let req = GoRequest::parse(&req, "ScrobbleRetrieverGetScrobbleCountRequest")?;
            let user_name = req.string("username")?;
            let options = req.object("options", "ScrobbleCountOptions")?;
            let from = go_opt_int64(&options, "fromTimestamp")?;
            let to = go_opt_int64(&options, "toTimestamp")?;
            let user = inner.user(&user_name)?;
            let count = inner.provider.count(&user, from, to).map_err(guest)?;
            Ok(json_response(json!({ "result": count })))
        });
        Ok(())
    }
}

/// `{result?}` for a Go `*int64`: present whenever there is a value, 0 included.
fn timestamp(value: Option<i64>) -> Result<Value, HostError> {
    Ok(match value {
        Some(t) => json!({ "result": t }),
        None => json!({}),
    })
}

/// Navidrome's `host.ScrobbleOptions`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Options {
    from: Option<i64>,
    to: Option<i64>,
    descending: bool,
    max_items: i64,
    offset: i64,
}

impl Options {
    fn decode(req: &GoRequest<'_>) -> Result<Self, HostError> {
        Ok(Self {
            from: go_opt_int64(req, "fromTimestamp")?,
            to: go_opt_int64(req, "toTimestamp")?,
            descending: req.bool("descending")?,
            max_items: go_int(req, "maxItems", "ScrobbleOptions", "options.maxItems")?,
            offset: go_int(req, "offset", "ScrobbleOptions", "options.offset")?,
        })
    }

    /// The wire form: pointers and `offset` are `omitempty`, the others always written.
    fn to_json(self) -> Value {
        let mut out = Map::new();
        if let Some(from) = self.from {
            out.insert("fromTimestamp".into(), json!(from));
        }
        if let Some(to) = self.to {
            out.insert("toTimestamp".into(), json!(to));
        }
        out.insert("descending".into(), json!(self.descending));
        out.insert("maxItems".into(), json!(self.max_items));
        if self.offset != 0 {
            out.insert("offset".into(), json!(self.offset));
        }
        Value::Object(out)
    }
}

impl Inner {
    fn user(&self, user_name: &str) -> Result<UserInfo, HostError> {
        resolve_user(self.users.as_ref(), &self.scope, user_name)
            .map_err(|e| guest(format_args!("scrobbleRetriever: {e}")))
    }

    fn scrobbles(&self, user: &UserInfo, mut options: Options) -> Result<Value, HostError> {
        if !(1..=MAX_SCROBBLE_ITEMS).contains(&options.max_items) {
            options.max_items = MAX_SCROBBLE_ITEMS;
        }
        options.offset = options.offset.max(0);
        // One more than the page: if it exists, another page follows and it gives its start.
        let page = options.max_items as usize;
        let lookahead = page + 1;
        let query = ScrobbleQuery {
            from: options.from,
            to: options.to,
            descending: options.descending,
            limit: lookahead,
            offset: usize::try_from(options.offset).unwrap_or(usize::MAX),
        };
        let mut entries = self.provider.scrobbles(user, &query).map_err(guest)?;
        entries.truncate(lookahead);
        let mut next = None;
        if entries.len() == lookahead {
            let next_timestamp = entries[page].submission_time;
            entries.truncate(page);
            let mut ties = entries
                .iter()
                .rev()
                .take_while(|e| e.submission_time == next_timestamp)
                .count() as i64;
            if ties == page as i64 {
                // The whole page shares the timestamp: the ties the incoming offset skipped
                // are still before the next page's start.
                ties = ties.saturating_add(options.offset);
            }
            let mut advanced = options;
            advanced.offset = ties;
            if options.descending {
                advanced.to = Some(next_timestamp);
            } else {
                advanced.from = Some(next_timestamp);
            }
            next = Some(advanced);
        }
        let scrobbles: Vec<Value> = entries
            .iter()
            .map(|e| {
                json!({
                    "id": e.id,
                    "mediaFileId": e.media_file_id,
                    "submissionTime": e.submission_time,
                })
            })
            .collect();
        let mut out = Map::new();
        if !scrobbles.is_empty() {
            out.insert("scrobbles".into(), Value::Array(scrobbles));
        }
        if let Some(next) = next {
            out.insert("next".into(), next.to_json());
        }
        Ok(Value::Object(out))
    }
}
