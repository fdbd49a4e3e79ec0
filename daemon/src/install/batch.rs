//! Several changes to skill folders made as one: installs, links and
//! removals are staged and judged first (nothing on disk moves), then all
//! are swapped in one journal batch ([`swap::replace_all`]); a failure or a
//! crash part-way leaves every folder as it was. A project sync and a
//! collection's convergence are both made of one batch.

use std::path::PathBuf;

use skilld_proto::events::{EventKind, HistoryEntry};

use super::apply::Prepared;
use super::{InstallError, swap};
use crate::events::EventBus;
use crate::index::installs::{self, InstallRow};
use crate::state::State;

/// Who makes a batch, for events and the history.
#[derive(Debug, Clone)]
pub struct Author {
    /// `cli`, or `subscription:<ref>`.
    pub actor: String,
    /// Said with every change (`project sync of /p`).
    pub message: String,
}

/// An install leaving its folder.
struct Leaving {
    row: InstallRow,
    item: swap::Item,
    /// The folder goes to the backups (it was edited by hand).
    backup: bool,
}

/// The installs of a set (`owned`) that are not at one of the `wanted`
/// paths: what leaves when the set converges, links before their copies.
pub fn leaving<'a>(
    rows: impl Iterator<Item = &'a InstallRow>,
    owned: impl Fn(&InstallRow) -> bool,
    wanted: &[PathBuf],
) -> Vec<&'a InstallRow> {
    let mut out: Vec<&InstallRow> = rows
        .filter(|r| owned(r))
        .filter(|r| !wanted.iter().any(|w| std::path::Path::new(&r.path) == w))
        .collect();
    out.sort_by_key(|r| (r.link_of.is_none(), r.path.clone()));
    out
}

/// Changes staged to be made as one.
#[derive(Default)]
pub struct Batch {
    prepared: Vec<Prepared>,
    leaving: Vec<Leaving>,
    /// Installs already gone from disk: only the index forgets them.
    forgotten: Vec<InstallRow>,
}

impl Batch {
    /// Add a staged install or link.
    pub fn add(&mut self, prepared: Prepared) {
        self.prepared.push(prepared);
    }

    /// The staged installs and links so far.
    pub fn prepared(&self) -> &[Prepared] {
        &self.prepared
    }

    /// Remove the install `row` in the batch; a hand-edited one goes to the
    /// backups (the caller decides whether it may go at all).
    pub fn remove(&mut self, state: &State, row: &InstallRow) -> Result<(), InstallError> {
        let dest = PathBuf::from(&row.path);
        if std::fs::symlink_metadata(&dest).is_err() {
            self.forgotten.push(row.clone());
            return Ok(());
        }
        let backup = super::is_modified(row);
        let displaced = if backup {
            super::backup_path(state, &row.name)?
        } else {
            swap::sibling(&dest, "old")
        };
        self.leaving.push(Leaving {
            row: row.clone(),
            item: swap::Item {
                dest,
                staged: None,
                displaced,
                record: None,
            },
            backup,
        });
        Ok(())
    }

    /// Drop everything staged; nothing changes.
    pub fn discard(&self) {
        self.prepared.iter().for_each(Prepared::discard);
    }

    /// Make every change as one (removals first, links before their
    /// copies as the caller ordered them); record each. The backups made.
    pub async fn commit(
        self,
        state: &State,
        author: &Author,
    ) -> Result<Vec<PathBuf>, InstallError> {
        let items: Vec<swap::Item> = self
            .leaving
            .iter()
            .map(|l| l.item.clone())
            .chain(self.prepared.iter().map(|p| p.item.clone()))
            .collect();
        if let Err(e) = swap::replace_all(state.index(), &items).await {
            self.discard();
            return Err(InstallError::internal(e.to_string()));
        }
        for row in &self.forgotten {
            let path = row.path.clone();
            state
                .index()
                .write(move |conn| installs::delete(conn, &path))
                .await?;
            let from = (row.version.clone(), Some(row.digest.clone()));
            record(state, row, "remove", from, None, author).await;
        }
        let mut backups = Vec::new();
        for l in &self.leaving {
            if l.backup {
                backups.push(l.item.displaced.clone());
            } else {
                swap::remove_any(&l.item.displaced);
            }
            if let Some(parent) = l.item.dest.parent() {
                swap::tidy_area(parent);
            }
            let from = (l.row.version.clone(), Some(l.row.digest.clone()));
            record(state, &l.row, "remove", from, None, author).await;
        }
        for p in self.prepared {
            let row = p.record.clone();
            let from = match &p.existing {
                Some(r) => (r.version.clone(), Some(r.digest.clone())),
                None => (None, None),
            };
            let action = if p.existing.is_some() {
                "upgrade"
            } else {
                "install"
            };
            let applied = p.done();
            backups.extend(applied.backup);
            record(state, &row, action, from, row.version.clone(), author).await;
        }
        state.watch().refresh().await;
        Ok(backups)
    }
}

/// An event and a history entry for one change of a batch (`from`: the
/// version and digest it replaces).
async fn record(
    state: &State,
    row: &InstallRow,
    action: &str,
    (from, from_digest): (Option<String>, Option<String>),
    to: Option<String>,
    author: &Author,
) {
    let kind = match action {
        "remove" => EventKind::Removed,
        "upgrade" => EventKind::Upgraded,
        _ => EventKind::Installed,
    };
    let digest = (action != "remove").then(|| row.digest.clone());
    let mut event = EventBus::event(kind);
    event.skill = Some(row.name.clone());
    event.target = Some(row.target.clone());
    event.from_version = from.clone();
    event.from_digest = from_digest.clone();
    event.to_version = to.clone();
    event.to_digest = digest.clone();
    event.message = Some(author.message.clone());
    state.events().emit(event);
    super::audit(
        state,
        HistoryEntry {
            at: crate::events::now(),
            action: action.into(),
            actor: author.actor.clone(),
            skill: row.name.clone(),
            target: row.target.clone(),
            from_version: from,
            to_version: to,
            from_digest,
            to_digest: digest,
            outcome: "ok".into(),
            message: Some(author.message.clone()),
        },
    )
    .await;
}
