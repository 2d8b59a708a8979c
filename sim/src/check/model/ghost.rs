//! Model-level memory for the properties a record cannot show by itself:
//! sends and escalations per incident across restarts, and the counters of
//! the bounded-liveness properties (death confirmations, quarantine bounds),
//! kept independently of the core's own counters so a wrong core cannot hide.

use super::*;

impl CheckModel {
    /// Model-level properties over the step and the ghost counters.
    pub(super) fn ghost_step(
        &self,
        slot: &mut Slot,
        before: &SessionRecord,
        input: &Input,
        decision: &lcm::Decision,
        after: &SessionRecord,
        v: &mut Viol,
    ) {
        let g = &mut slot.ghost;
        let table = self.cfg.reactions_for(&after.project_id);
        let bit = |k: ReactionKey| 1u16 << k.index();
        for e in &decision.effects {
            match e {
                Effect::SendToAgent { reaction: k, .. } => {
                    if g.escalated & bit(*k) != 0 {
                        v.add(PropertyId::Budgets, || {
                            format!("{k} sent after it escalated, before its incident cleared")
                        });
                    }
                    if let Some(r) = table.get(*k).retries {
                        let sends = &mut g.sends[k.index()];
                        *sends = sends.saturating_add(1);
                        if u32::from(*sends) > r + 1 {
                            let count = *sends;
                            v.add(PropertyId::Budgets, || {
                                format!("{k}: {count} sends in one incident, retries {r}")
                            });
                        }
                    }
                }
                Effect::Notify(note) => {
                    let k = note.reaction;
                    match note.kind {
                        NotificationKind::Escalated => {
                            if g.escalated & bit(k) != 0 {
                                v.add(PropertyId::Budgets, || {
                                    format!("{k} escalated twice in one incident")
                                });
                            }
                            g.escalated |= bit(k);
                        }
                        NotificationKind::Reaction => {
                            if g.notified & bit(k) != 0 {
                                v.add(PropertyId::NoNotificationStorm, || {
                                    format!("{k} notified twice in one incident")
                                });
                            }
                            g.notified |= bit(k);
                        }
                    }
                }
                Effect::Persist(_) => {}
            }
        }
        if let Event::DeliveryFailed { reaction } = input.event {
            let sends = &mut g.sends[reaction.index()];
            *sends = sends.saturating_sub(1);
        }
        // Incidents end by the SPEC's rules (not by reading the core's trackers).
        let la = &after.lifecycle;
        let maps = reaction_for(after.kind, la.session, &la.pr);
        let detecting = la.session.state == SessionState::Detecting;
        let recovered =
            !la.pr.draft && matches!(la.pr.reason, PrReason::Approved | PrReason::MergeReady);
        for k in ReactionKey::ALL.iter().copied() {
            let over = after.is_terminal()
                || if k.is_persistent() {
                    la.pr.state != PrState::Open || recovered
                } else {
                    !detecting && maps != Some(k)
                };
            if over {
                g.sends[k.index()] = 0;
            }
            if after.policy.get(k).is_none() {
                g.escalated &= !bit(k);
                g.notified &= !bit(k);
            }
        }
        // Bounded liveness: death confirmation and quarantine counters.
        let t = &self.cfg.thresholds;
        let mut dead_observation = false;
        if let Event::Runtime(obs) = &input.event {
            if !before.is_terminal() && before.metadata.spawned_at.is_some() {
                let bl = &before.lifecycle;
                let recent = decide::recent_activity(&bl.activity, input.at, t);
                if obs.runtime == Probe::Dead && obs.process == Probe::Dead && !recent {
                    dead_observation = true;
                    g.dead_streak = g.dead_streak.saturating_add(1);
                    let due = u32::from(g.dead_streak) >= t.death_confirmations;
                    let dead = la.session.state == SessionState::Terminated;
                    if due != dead {
                        let streak = g.dead_streak;
                        v.add(PropertyId::DeathConfirmed, || {
                            format!("{streak} agreeing dead observation(s), terminated: {dead}")
                        });
                    }
                }
                let grace = bl.session.state == SessionState::NotStarted
                    && before
                        .metadata
                        .spawned_at
                        .is_some_and(|at| timers::in_startup_grace(input.at, at, t))
                    && obs.runtime == Probe::Alive
                    && obs.process != Probe::Failed;
                if let Some(reason) = decide::liveness(obs.runtime, obs.process, recent).reason() {
                    if !grace {
                        let fp = Evidence {
                            runtime: obs.runtime,
                            process: obs.process,
                            recent_activity: recent,
                            reason,
                        }
                        .fingerprint();
                        g.q_same = if g.q_fp == Some(fp) {
                            g.q_same.saturating_add(1)
                        } else {
                            1
                        };
                        g.q_fp = Some(fp);
                    }
                }
            }
        }
        // Only another runtime observation breaks a streak of agreeing ones
        // (SPEC §4.1: "the previous observation of this session"); other
        // inputs (a stale signal, an SCM fact) are not liveness observations.
        if !dead_observation && matches!(input.event, Event::Runtime(_)) {
            g.dead_streak = 0;
        }
        match (before.lifecycle.detecting.is_some(), la.detecting.is_some()) {
            (false, true) => g.q_age = Some(0),
            (_, false) => {
                g.q_age = None;
                g.q_same = 0;
                g.q_fp = None;
                g.dead_streak = 0;
            }
            (true, true) => {}
        }
        if matches!(input.event, Event::Tick | Event::Runtime(_)) && detecting {
            let units = t.quarantine_max_duration.as_millis() / fixtures::UNIT.as_millis();
            let age = g.q_age.map_or(0, u64::from);
            if u32::from(g.q_same) >= t.quarantine_max_attempts || age >= units {
                let same = g.q_same;
                v.add(PropertyId::QuarantineEnds, || {
                    format!(
                        "still detecting after {same} identical observation(s) and {age} unit(s)"
                    )
                });
            }
        }
    }
}
