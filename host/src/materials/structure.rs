//! How a material takes part in a page (`hangar:plugin@0.2.0`'s
//! `structure`): the slots where the designer may put children, the events
//! a page may bind to actions, and its role in forms. Checked once, when
//! the material loads.

use serde::Serialize;

use crate::plugins::wit;

/// Most slots or events a material may declare.
const MAX_ENTRIES: usize = 16;
/// Most entries of one slot's `accepts`.
const MAX_ACCEPTS: usize = 64;

/// A material's part in forms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// Shows something; may hold children.
    Content,
    /// Its descendant fields are submitted together.
    Form,
    /// A form field (props `name`, `required`, `kind`).
    Field,
}

/// A slot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Slot {
    /// Name, as marked in the HTML (`data-hangar-slot`).
    pub name: String,
    /// Title for the designer.
    pub title: String,
    /// Material names or categories allowed here; empty for any.
    pub accepts: Vec<String>,
}

/// An event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Event {
    /// Name.
    pub name: String,
    /// Title for the designer.
    pub title: String,
}

/// A material's structure, checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Structure {
    /// Its part in forms.
    pub role: Role,
    /// Where children may go.
    pub slots: Vec<Slot>,
    /// What it emits.
    pub events: Vec<Event>,
}

/// Whether `name` may name a slot or an event: 1-32 lowercase letters,
/// digits and `-`.
pub fn valid_name(name: &str) -> bool {
    (1..=32).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

impl Structure {
    /// Checks what a material declared: names well-formed and unique, titles
    /// short, and not too many of anything.
    ///
    /// # Errors
    /// What is wrong.
    pub fn checked(raw: wit::MaterialStructure) -> Result<Self, String> {
        if raw.slots.len() > MAX_ENTRIES || raw.events.len() > MAX_ENTRIES {
            return Err(format!(
                "at most {MAX_ENTRIES} slots and {MAX_ENTRIES} events"
            ));
        }
        let title = |t: String| {
            if t.len() > 120 {
                Err(format!("title {t:?} is longer than 120 bytes"))
            } else {
                Ok(t)
            }
        };
        let mut names = std::collections::HashSet::new();
        let mut slots = Vec::new();
        for slot in raw.slots {
            if !valid_name(&slot.name) || !names.insert(slot.name.clone()) {
                return Err(format!(
                    "slot name {:?} is malformed or repeated",
                    slot.name
                ));
            }
            if slot.accepts.len() > MAX_ACCEPTS || slot.accepts.iter().any(|a| a.len() > 64) {
                return Err(format!("slot {:?} accepts too much", slot.name));
            }
            slots.push(Slot {
                name: slot.name,
                title: title(slot.title)?,
                accepts: slot.accepts,
            });
        }
        let mut names = std::collections::HashSet::new();
        let mut events = Vec::new();
        for event in raw.events {
            if !valid_name(&event.name) || !names.insert(event.name.clone()) {
                return Err(format!(
                    "event name {:?} is malformed or repeated",
                    event.name
                ));
            }
            events.push(Event {
                name: event.name,
                title: title(event.title)?,
            });
        }
        Ok(Self {
            role: match raw.role {
                wit::MaterialRole::Content => Role::Content,
                wit::MaterialRole::Form => Role::Form,
                wit::MaterialRole::Field => Role::Field,
            },
            slots,
            events,
        })
    }

    /// The slot `name`.
    pub fn slot(&self, name: &str) -> Option<&Slot> {
        self.slots.iter().find(|s| s.name == name)
    }

    /// Whether it emits `name`.
    pub fn emits(&self, name: &str) -> bool {
        self.events.iter().any(|e| e.name == name)
    }
}

impl Slot {
    /// Whether a child of material `name` in `category` may go here.
    pub fn accepts(&self, name: &str, category: &str) -> bool {
        self.accepts.is_empty() || self.accepts.iter().any(|a| a == name || a == category)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(slots: &[&str], events: &[&str]) -> wit::MaterialStructure {
        wit::MaterialStructure {
            role: wit::MaterialRole::Content,
            slots: slots
                .iter()
                .map(|n| wit::SlotInfo {
                    name: (*n).into(),
                    title: "t".into(),
                    accepts: vec![],
                })
                .collect(),
            events: events
                .iter()
                .map(|n| wit::EventInfo {
                    name: (*n).into(),
                    title: "t".into(),
                })
                .collect(),
        }
    }

    #[test]
    fn names_must_be_well_formed_and_unique() {
        assert!(Structure::checked(raw(&["body", "side-2"], &["click"])).is_ok());
        for bad in [
            raw(&["Body"], &[]),
            raw(&["a", "a"], &[]),
            raw(&[""], &[]),
            raw(&[], &["on click"]),
        ] {
            assert!(Structure::checked(bad).is_err());
        }
    }
}
