#![allow(clippy::unwrap_used, missing_docs)]
use ao_sim::check::model::CheckModel;
use stateright::Model;
use std::collections::HashSet;

#[test]
#[ignore]
fn census() {
    let mut m = CheckModel::new(1, 1, 1, None).unwrap();
    m.reliable_store = true;
    let init = m.init_states().remove(0);
    let mut seen: HashSet<_> = HashSet::new();
    seen.insert(init.clone());
    let mut frontier = vec![init];
    for _ in 0..9 {
        let mut next = Vec::new();
        for s in &frontier {
            let mut acts = Vec::new();
            m.actions(s, &mut acts);
            for a in acts {
                if let Some(n) = m.next_state(s, a) {
                    if seen.insert(n.clone()) {
                        next.push(n);
                    }
                }
            }
        }
        frontier = next;
    }
    let slots: Vec<_> = seen.iter().map(|s| s.slots[0].clone()).collect();
    let count = |f: &dyn Fn(&ao_sim::check::model::Slot) -> String| {
        slots.iter().map(f).collect::<HashSet<_>>().len()
    };
    println!("states {}", seen.len());
    println!("records {}", count(&|s| format!("{:?}", s.rec)));
    println!(
        "lifecycles {}",
        count(&|s| format!("{:?}", s.rec.as_ref().map(|r| r.lifecycle.clone())))
    );
    println!(
        "session axis {}",
        count(&|s| format!("{:?}", s.rec.as_ref().map(|r| r.lifecycle.session)))
    );
    println!(
        "pr axis {}",
        count(&|s| format!("{:?}", s.rec.as_ref().map(|r| r.lifecycle.pr.clone())))
    );
    println!(
        "activity {}",
        count(&|s| format!("{:?}", s.rec.as_ref().map(|r| r.lifecycle.activity)))
    );
    println!(
        "detecting {}",
        count(&|s| format!("{:?}", s.rec.as_ref().map(|r| r.lifecycle.detecting)))
    );
    println!(
        "metadata {}",
        count(&|s| format!("{:?}", s.rec.as_ref().map(|r| r.metadata.clone())))
    );
    println!(
        "policy {}",
        count(&|s| format!("{:?}", s.rec.as_ref().map(|r| r.policy)))
    );
    println!("ops {}", count(&|s| format!("{:?}", s.op)));
    println!(
        "fakes {}",
        count(&|s| format!("{:?}{:?}{}", s.rt, s.ws, s.dirty_deleted))
    );
    println!("ghost {}", count(&|s| format!("{:?}", s.ghost)));
    println!(
        "used {}",
        count(&|s| format!("{:?}{}{}", s.used, s.restored, s.cleanup_skipped))
    );
    println!(
        "detecting+q {}",
        count(&|s| format!(
            "{:?}{:?}{:?}{:?}",
            s.rec.as_ref().map(|r| r.lifecycle.detecting),
            s.ghost.q_start,
            s.ghost.q_same,
            s.ghost.q_fp
        ))
    );
    println!(
        "detecting+streak {}",
        count(&|s| format!(
            "{:?}{:?}",
            s.rec.as_ref().map(|r| r.lifecycle.detecting),
            s.ghost.dead_streak
        ))
    );
    println!(
        "policy+sends {}",
        count(&|s| format!("{:?}{:?}", s.rec.as_ref().map(|r| r.policy), s.ghost.sends))
    );
    println!(
        "policy+bits {}",
        count(&|s| format!(
            "{:?}{:?}{:?}",
            s.rec.as_ref().map(|r| r.policy),
            s.ghost.escalated,
            s.ghost.notified
        ))
    );
    let mut ex: Vec<String> = slots
        .iter()
        .filter(|s| {
            s.ghost.q_fp.is_some()
                && s.rec
                    .as_ref()
                    .and_then(|r| r.lifecycle.detecting)
                    .map(|q| q.evidence_fingerprint)
                    != s.ghost.q_fp
        })
        .map(|s| {
            format!(
                "{:?} | {:?}",
                s.rec
                    .as_ref()
                    .map(|r| (r.lifecycle.session, r.lifecycle.detecting)),
                s.ghost
            )
        })
        .collect();
    ex.sort();
    ex.dedup();
    for e in ex.iter().take(5) {
        println!("MISMATCH {e}");
    }
    println!("pending {}", count(&|s| format!("{:?}", s.pending)));
}
