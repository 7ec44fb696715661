//! A run over many documents (a folder, a list of files, or one): each document is its own
//! task, as many in flight as keep the backends busy and never the whole corpus in memory.
//! Finished documents are handed to the caller as they finish (or in input order), with
//! progress in between; Ctrl-C stops sending, lets what is in flight end, and starts nothing
//! new.

use std::time::{Duration, Instant};

use futures_util::stream::{self, BoxStream, Stream, StreamExt};
use tokio_util::sync::CancellationToken;

use super::document::{DocumentError, Input, Outcome, Processing, Read, process_pack, read};
use super::engine::Engine;
use super::pack::Packing;
use crate::backend::Usage;

/// How a run goes.
pub struct Run {
    pub processing: Processing,
    /// Documents in flight at once.
    pub in_flight: usize,
    /// Hand documents over in input order (files shown one after another) rather than as
    /// they finish.
    pub ordered: bool,
    /// Cancelled by Ctrl-C (the run listens for it) or by the caller; the engine's own token,
    /// so cancelling also stops its requests.
    pub cancel: CancellationToken,
}

/// What the caller hears during a run.
pub enum Event {
    /// A document is done, failed, or was never started.
    Finished(Box<Finished>),
    /// Every quarter second: the run so far.
    Progress(Progress),
}

pub struct Finished {
    pub input: Input,
    pub result: Result<Outcome, DocumentError>,
}

#[derive(Debug, Clone, Copy, Default)]
pub struct Progress {
    pub documents: usize,
    pub paragraphs: u64,
    /// Over every backend.
    pub usage: Usage,
}

/// How a run ended.
#[derive(Debug, Clone, Copy)]
pub struct Ended {
    /// Ctrl-C: finished documents were handed over, the rest were not started.
    pub interrupted: bool,
    pub elapsed: Duration,
}

fn not_started(input: &Input) -> DocumentError {
    DocumentError::NotStarted(input.name(), "cancelled (Ctrl-C)")
}

impl Run {
    /// Enough documents in flight to keep every backend's slots busy (within `--jobs`),
    /// bounded so memory stays flat; a few without backends, for the file work.
    pub fn in_flight_for(engine: Option<&Engine>, jobs: Option<usize>) -> usize {
        let Some(engine) = engine else {
            return 4;
        };
        let slots: usize = engine
            .draft
            .iter()
            .chain([&engine.main])
            .map(|pass| pass.first().backend.concurrency())
            .max()
            .unwrap_or(1);
        let slots = jobs.map_or(slots, |j| slots.min(j));
        (slots * 2).clamp(2, 64)
    }

    /// Process `inputs` — taken as they come, so a folder can be walked while the first
    /// documents are sent — telling `on` about each finished document and the progress.
    pub async fn run(
        &self,
        inputs: impl Stream<Item = Input> + Send,
        mut on: impl FnMut(Event),
    ) -> Ended {
        let started = Instant::now();
        let token = self.cancel.clone();
        let listener = tokio::spawn({
            let token = token.clone();
            async move {
                if tokio::signal::ctrl_c().await.is_ok() {
                    token.cancel();
                }
            }
        });
        let mut progress = Progress::default();
        let mut finished = self.documents(inputs, token.clone());
        let mut ticker = tokio::time::interval(Duration::from_millis(250));
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                next = finished.next() => {
                    let Some(done) = next else { break };
                    progress.documents += 1;
                    if let Ok(outcome) = &done.result {
                        progress.paragraphs += outcome.repaired.segments.len() as u64;
                    }
                    on(Event::Finished(Box::new(done)));
                }
                _ = ticker.tick() => {
                    progress.usage = self.usage();
                    on(Event::Progress(progress));
                }
            }
        }
        listener.abort();
        Ended {
            interrupted: token.is_cancelled(),
            elapsed: started.elapsed(),
        }
    }

    /// The documents as they finish (or in order), each pack on its own task so they use every
    /// core; a document not yet begun when the run is cancelled is not started. Documents are
    /// read in input order and packed as they come (`pack`): consecutive small ones share
    /// their requests, by their sizes alone.
    fn documents<'a>(
        &'a self,
        inputs: impl Stream<Item = Input> + Send + 'a,
        token: CancellationToken,
    ) -> BoxStream<'a, Finished> {
        let in_flight = self.in_flight.max(1);
        let reads = inputs
            .map({
                let token = token.clone();
                move |input| {
                    let token = token.clone();
                    async move {
                        if token.is_cancelled() {
                            let read = Err(not_started(&input));
                            return (input, read);
                        }
                        let read = read(&input).await;
                        (input, read)
                    }
                }
            })
            .buffered(in_flight)
            .boxed();
        let engine = self.processing.engine.clone();
        let packing = engine
            .as_ref()
            .and_then(|e| e.pack_limits())
            .map(Packing::new);
        let packs = stream::unfold(
            (reads, packing, Vec::new()),
            move |(mut reads, mut packing, mut held): (_, Option<Packing>, Vec<(Input, Read)>)| {
                let engine = engine.clone();
                async move {
                    while let Some((input, read)) = reads.next().await {
                        let size = match (&read, &engine, &mut packing) {
                            (Ok((_, repaired)), Some(engine), Some(_)) => {
                                engine.pack_size(repaired)
                            }
                            _ => None,
                        };
                        let joins = packing.as_mut().is_some_and(|p| p.joins(size));
                        if joins || held.is_empty() {
                            held.push((input, read));
                            continue;
                        }
                        let pack = std::mem::replace(&mut held, vec![(input, read)]);
                        return Some((pack, (reads, packing, held)));
                    }
                    if held.is_empty() {
                        return None;
                    }
                    let pack = std::mem::take(&mut held);
                    Some((pack, (reads, packing, held)))
                }
            },
        );
        let tasks = packs.map(move |pack: Vec<(Input, Read)>| {
            let processing = self.processing.clone();
            let token = token.clone();
            async move {
                if token.is_cancelled() {
                    return pack
                        .into_iter()
                        .map(|(input, _)| Finished {
                            result: Err(not_started(&input)),
                            input,
                        })
                        .collect();
                }
                let inputs: Vec<Input> = pack.iter().map(|(input, _)| input.clone()).collect();
                let task = tokio::spawn(async move { process_pack(pack, &processing).await });
                match task.await {
                    Ok(done) => done
                        .into_iter()
                        .map(|(input, result)| Finished { input, result })
                        .collect(),
                    Err(join) => inputs
                        .into_iter()
                        .map(|input| Finished {
                            result: Err(DocumentError::Crashed(input.name(), join.to_string())),
                            input,
                        })
                        .collect::<Vec<_>>(),
                }
            }
        });
        if self.ordered {
            tasks.buffered(in_flight).flat_map(stream::iter).boxed()
        } else {
            tasks
                .buffer_unordered(in_flight)
                .flat_map(stream::iter)
                .boxed()
        }
    }

    /// Usage over every backend so far.
    fn usage(&self) -> Usage {
        let Some(engine) = &self.processing.engine else {
            return Usage::default();
        };
        engine
            .usage()
            .values()
            .fold(Usage::default(), |mut all, u| {
                all += *u;
                all
            })
    }
}
