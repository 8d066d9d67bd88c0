//! Capability detection from exports and the load-time rules that tie capabilities to the
//! manifest (spec §4.1). The capability table itself ([`Capability`]: names and exports) lives
//! in `nd-manifest`, which the CLI also uses; this module adds the set type and the checks.

use std::collections::BTreeSet;
use std::fmt;

use nd_manifest::Permissions;
use serde::de::{self, SeqAccess, Visitor};
use serde::ser::SerializeSeq;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

pub use nd_manifest::abi::Capability;

/// The export of the Scheduler capability, required by the `scheduler` permission.
pub const SCHEDULER_CALLBACK: &str = "nd_scheduler_callback";
/// The export of the TaskWorker capability, required by the `taskqueue` permission.
pub const TASK_EXECUTE: &str = "nd_task_execute";

/// A set of [`Capability`] values, iterated in [`Capability::ALL`] order. Serializes as a
/// list of Navidrome's names, e.g. `["MetadataAgent","Lifecycle"]`.
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct CapabilitySet {
    bits: u32,
}

fn bit(capability: Capability) -> u32 {
    let index = Capability::ALL
        .iter()
        .position(|c| *c == capability)
        .unwrap_or(0);
    1 << index
}

impl CapabilitySet {
    /// The empty set.
    pub const fn new() -> Self {
        Self { bits: 0 }
    }

    /// Whether `capability` is in the set.
    pub fn contains(&self, capability: Capability) -> bool {
        self.bits & bit(capability) != 0
    }

    /// Adds `capability`; returns whether it was new.
    pub fn insert(&mut self, capability: Capability) -> bool {
        let new = !self.contains(capability);
        self.bits |= bit(capability);
        new
    }

    /// Removes `capability`; returns whether it was present.
    pub fn remove(&mut self, capability: Capability) -> bool {
        let present = self.contains(capability);
        self.bits &= !bit(capability);
        present
    }

    /// True when no capability is present.
    pub fn is_empty(&self) -> bool {
        self.bits == 0
    }

    /// The number of capabilities in the set.
    pub fn len(&self) -> usize {
        self.bits.count_ones() as usize
    }

    /// The capabilities, in [`Capability::ALL`] order.
    pub fn iter(&self) -> impl Iterator<Item = Capability> + '_ {
        Capability::ALL.into_iter().filter(|c| self.contains(*c))
    }

    /// Navidrome's names of the capabilities, in [`Capability::ALL`] order.
    pub fn names(&self) -> Vec<&'static str> {
        self.iter().map(Capability::name).collect()
    }
}

impl FromIterator<Capability> for CapabilitySet {
    fn from_iter<I: IntoIterator<Item = Capability>>(iter: I) -> Self {
        let mut set = Self::new();
        iter.into_iter().for_each(|c| {
            set.insert(c);
        });
        set
    }
}

impl Extend<Capability> for CapabilitySet {
    fn extend<I: IntoIterator<Item = Capability>>(&mut self, iter: I) {
        iter.into_iter().for_each(|c| {
            self.insert(c);
        });
    }
}

impl fmt::Debug for CapabilitySet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

/// The names joined by `, ` (empty for the empty set).
impl fmt::Display for CapabilitySet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.names().join(", "))
    }
}

impl Serialize for CapabilitySet {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.len()))?;
        for name in self.names() {
            seq.serialize_element(name)?;
        }
        seq.end()
    }
}

/// Reads a list of names; an unknown name is an error, `null` is the empty set.
impl<'de> Deserialize<'de> for CapabilitySet {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Names;
        impl<'de> Visitor<'de> for Names {
            type Value = CapabilitySet;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list of capability names")
            }
            fn visit_unit<E: de::Error>(self) -> Result<CapabilitySet, E> {
                Ok(CapabilitySet::new())
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<CapabilitySet, A::Error> {
                let mut set = CapabilitySet::new();
                while let Some(name) = seq.next_element::<String>()? {
                    let capability = Capability::from_name(&name)
                        .ok_or_else(|| de::Error::custom(format!("unknown capability {name:?}")))?;
                    set.insert(capability);
                }
                Ok(set)
            }
        }
        deserializer.deserialize_any(Names)
    }
}

/// The capabilities a module has, given its export names (spec §4.1): one listed export is
/// enough, so a Go PDK plugin that exports all 11 metadata functions and a Rust one that
/// exports only `nd_get_artist_biography` are both metadata agents.
///
/// ```
/// use nd_capabilities::{Capability, detect};
/// let set = detect(["memory", "nd_on_init", "nd_get_artist_url"]);
/// assert!(set.contains(Capability::MetadataAgent) && set.contains(Capability::Lifecycle));
/// assert_eq!(set.names(), ["MetadataAgent", "Lifecycle"]);
/// ```
pub fn detect<'a>(exports: impl IntoIterator<Item = &'a str>) -> CapabilitySet {
    exports
        .into_iter()
        .filter_map(Capability::for_export)
        .collect()
}

/// Detection through a predicate, for callers that can only ask "does it export X?".
pub(crate) fn detect_with(has_export: impl Fn(&str) -> bool) -> CapabilitySet {
    Capability::ALL
        .into_iter()
        .filter(|c| c.exports().iter().any(|e| has_export(e)))
        .collect()
}

/// A load-time rule of spec §4.1 that a plugin breaks. `Display` gives Navidrome's message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Violation {
    /// The plugin has the Scrobbler capability but the manifest lacks the `users` permission.
    ScrobblerRequiresUsers,
    /// The manifest has the `scheduler` permission but the plugin does not export
    /// `nd_scheduler_callback`.
    SchedulerRequiresCallback,
    /// The manifest has the `taskqueue` permission but the plugin does not export
    /// `nd_task_execute`.
    TaskQueueRequiresWorker,
}

impl Violation {
    /// A short name of the rule: `Scrobbler => users`, `scheduler => nd_scheduler_callback`,
    /// `taskqueue => nd_task_execute`.
    pub fn rule(self) -> &'static str {
        match self {
            Self::ScrobblerRequiresUsers => "Scrobbler => users",
            Self::SchedulerRequiresCallback => "scheduler => nd_scheduler_callback",
            Self::TaskQueueRequiresWorker => "taskqueue => nd_task_execute",
        }
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ScrobblerRequiresUsers => f.write_str(
                "scrobbler capability requires 'users' permission to be declared in manifest",
            ),
            Self::SchedulerRequiresCallback => write!(
                f,
                "'scheduler' permission requires plugin to export '{SCHEDULER_CALLBACK}' function"
            ),
            Self::TaskQueueRequiresWorker => write!(
                f,
                "'taskqueue' permission requires plugin to export '{TASK_EXECUTE}' function"
            ),
        }
    }
}

impl std::error::Error for Violation {}

/// Checks the load-time rules of spec §4.1 (Navidrome's `ValidateWithCapabilities`) for a
/// module with these exports and a manifest with these permissions, reporting every broken
/// rule at once:
///
/// - the Scrobbler capability requires the `users` permission;
/// - the `scheduler` permission requires the `nd_scheduler_callback` export;
/// - the `taskqueue` permission requires the `nd_task_execute` export.
///
/// ```
/// use nd_capabilities::{Violation, validate};
/// use nd_manifest::Permissions;
/// let none = Permissions::default();
/// assert_eq!(validate(&none, ["nd_get_artist_url"]), Ok(()));
/// assert_eq!(
///     validate(&none, ["nd_scrobbler_scrobble"]),
///     Err(vec![Violation::ScrobblerRequiresUsers])
/// );
/// ```
pub fn validate<'a>(
    permissions: &Permissions,
    exports: impl IntoIterator<Item = &'a str>,
) -> Result<(), Vec<Violation>> {
    let exports: BTreeSet<&str> = exports.into_iter().collect();
    let capabilities = detect(exports.iter().copied());
    let mut violations = Vec::new();
    if capabilities.contains(Capability::Scrobbler) && permissions.users.is_none() {
        violations.push(Violation::ScrobblerRequiresUsers);
    }
    if permissions.scheduler.is_some() && !exports.contains(SCHEDULER_CALLBACK) {
        violations.push(Violation::SchedulerRequiresCallback);
    }
    if permissions.taskqueue.is_some() && !exports.contains(TASK_EXECUTE) {
        violations.push(Violation::TaskQueueRequiresWorker);
    }
    if violations.is_empty() {
        Ok(())
    } else {
        Err(violations)
    }
}

#[cfg(test)]
mod tests;
