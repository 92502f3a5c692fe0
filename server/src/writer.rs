//! Group commit: concurrent sync exchanges hand their merged documents to
//! one writer thread, which commits every exchange waiting at that moment
//! in one transaction and answers each after the commit.
//!
//! The expensive work stays outside the writer, in each exchange's own
//! thread ([`ingest`]): stage (read the stored copies in one snapshot),
//! then load, merge and validate each upload with
//! [`merge_upload`](crate::ingest::merge_upload). The writer only checks and
//! writes rows ([`Documents::commit`]): it refuses what was erased
//! meanwhile and hands back as [`Fate::Stale`] any document whose stored
//! copy another exchange changed after it was staged, which [`ingest`] then
//! stages and merges again. So nothing written is ever merged against an
//! out-of-date copy, and no exchange waits for another's Automerge work.
//!
//! A group that fails is retried one exchange at a time, so one exchange's
//! failure is that exchange's alone.

use std::sync::Arc;
use std::sync::mpsc;
use std::time::Instant;

use hark_core::sync::DocData;

use crate::error::{Error, Result};
use crate::ingest::{Extra, Fate, Ingest, Merged, StagedDoc, merge_upload};
use crate::metrics::Metrics;
use crate::model::Device;
use crate::storage::{Storage, Upload, response_key};

/// Most documents in one group transaction (an exchange carries at most
/// [`crate::sync::MAX_DOCS`]).
pub const MAX_GROUP_DOCS: usize = 5000;

/// Times an exchange stages and merges again when the documents it merged
/// keep changing under it, before it gives up (the device retries later).
pub const MAX_ROUNDS: usize = 8;

/// Where an exchange hands its staged merges to be written.
pub trait Commit: Send + Sync {
    /// Writes the upload's merges; gives the upload back with one fate per
    /// document.
    fn commit(&self, upload: Upload) -> Result<(Upload, Vec<Fate>)>;
}

/// Commits each upload on its own, in the caller's thread (tools, tests).
#[derive(Clone, Copy)]
pub struct Direct<'a>(pub &'a dyn Storage);

impl std::fmt::Debug for Direct<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Direct")
    }
}

impl Commit for Direct<'_> {
    fn commit(&self, upload: Upload) -> Result<(Upload, Vec<Fate>)> {
        let fates = self
            .0
            .commit(std::slice::from_ref(&upload))?
            .pop()
            .unwrap_or_default();
        Ok((upload, fates))
    }
}

struct Job {
    upload: Upload,
    reply: mpsc::SyncSender<Result<(Upload, Vec<Fate>)>>,
}

/// The group writer: one thread, running until the last handle is dropped.
#[derive(Debug)]
pub struct Writer {
    jobs: mpsc::Sender<Job>,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Job")
            .field("docs", &self.upload.docs.len())
            .finish()
    }
}

impl Writer {
    /// Starts the writer over `storage`.
    pub fn start(storage: Arc<dyn Storage>, metrics: Arc<Metrics>) -> Result<Self> {
        let (jobs, queue) = mpsc::channel();
        std::thread::Builder::new()
            .name("hark-writer".into())
            .spawn(move || run(storage.as_ref(), &metrics, &queue))?;
        Ok(Self { jobs })
    }
}

impl Commit for Writer {
    fn commit(&self, upload: Upload) -> Result<(Upload, Vec<Fate>)> {
        let (reply, answer) = mpsc::sync_channel(1);
        self.jobs
            .send(Job { upload, reply })
            .map_err(|_| Error::Join)?;
        answer.recv().map_err(|_| Error::Join)?
    }
}

/// The writer's loop: take every job waiting (up to [`MAX_GROUP_DOCS`]),
/// commit them together, answer each.
fn run(storage: &dyn Storage, metrics: &Metrics, queue: &mpsc::Receiver<Job>) {
    while let Ok(first) = queue.recv() {
        let mut docs = first.upload.docs.len();
        let mut group = vec![first];
        while docs < MAX_GROUP_DOCS {
            let Ok(job) = queue.try_recv() else { break };
            docs += job.upload.docs.len();
            group.push(job);
        }
        let started = Instant::now();
        commit_group(storage, group);
        metrics
            .commit_seconds
            .observe(started.elapsed().as_secs_f64());
        metrics.group_size.observe(docs as f64);
    }
}

fn commit_group(storage: &dyn Storage, group: Vec<Job>) {
    let (uploads, replies): (Vec<Upload>, Vec<_>) =
        group.into_iter().map(|j| (j.upload, j.reply)).unzip();
    match storage.commit(&uploads) {
        Ok(fates) => {
            for ((upload, fates), reply) in uploads.into_iter().zip(fates).zip(replies) {
                let _ = reply.send(Ok((upload, fates)));
            }
        }
        Err(e) if uploads.len() == 1 => {
            if let Some(reply) = replies.into_iter().next() {
                let _ = reply.send(Err(e));
            }
        }
        Err(e) => {
            tracing::warn!(error = %e, exchanges = uploads.len(), "group commit failed; committing each exchange alone");
            for (upload, reply) in uploads.into_iter().zip(replies) {
                let result = storage
                    .commit(std::slice::from_ref(&upload))
                    .map(|mut f| (upload, f.pop().unwrap_or_default()));
                let _ = reply.send(result);
            }
        }
    }
}

/// Merges one exchange's uploads into storage: stage, merge each outside
/// the writer, commit through `commit`, and stage and merge again whatever
/// came back stale. One outcome per upload, in order, with what the device
/// lacks.
pub fn ingest(
    storage: &dyn Storage,
    commit: &dyn Commit,
    ctx: &Ingest<'_>,
    device: &Device,
    uploads: &[&DocData],
) -> Result<Vec<(Merged, Option<Extra>)>> {
    let keys: Vec<String> = uploads
        .iter()
        .map(|d| response_key(&device.area_id, &d.id))
        .collect();
    let mut results: Vec<Option<(Merged, Option<Extra>)>> = uploads.iter().map(|_| None).collect();
    let mut todo: Vec<usize> = (0..uploads.len()).collect();
    for _ in 0..MAX_ROUNDS {
        if todo.is_empty() {
            break;
        }
        let staged_keys: Vec<String> = todo.iter().map(|&i| keys[i].clone()).collect();
        let stored = storage.stage(&staged_keys)?;
        let mut extras = Vec::with_capacity(todo.len());
        let docs = todo
            .iter()
            .zip(stored)
            .map(|(&i, stored)| {
                let seen = stored.as_ref().map(|s| s.seq);
                let (merged, extra) = merge_upload(ctx, uploads[i], stored);
                extras.push(extra);
                StagedDoc {
                    key: keys[i].clone(),
                    seen,
                    merged,
                }
            })
            .collect();
        let (upload, fates) = commit.commit(Upload {
            device: device.clone(),
            docs,
        })?;
        let mut stale = Vec::new();
        for (((&i, doc), fate), extra) in todo.iter().zip(upload.docs).zip(fates).zip(extras) {
            match fate {
                Fate::Kept => results[i] = Some((doc.merged, extra)),
                Fate::Erased => results[i] = Some((Merged::Rejected("erased".into()), None)),
                Fate::Stale => stale.push(i),
            }
        }
        todo = stale;
    }
    if !todo.is_empty() {
        return Err(Error::Busy(format!(
            "{} documents kept changing while this sync merged them: sync again",
            todo.len()
        )));
    }
    Ok(results.into_iter().flatten().collect())
}
