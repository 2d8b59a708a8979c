#![allow(clippy::unwrap_used, missing_docs)]
use ao_sim::check::model::CheckModel;
use stateright::Model;

#[test]
#[ignore]
fn walk() {
    let mut m = CheckModel::new(1, 1, 1, None).unwrap();
    m.reliable_store = true;
    let mut s = m.init_states().remove(0);
    let mut seed: u64 = 7;
    let mut seen = std::collections::HashSet::new();
    for step in 0..20000 {
        let mut acts = Vec::new();
        m.actions(&s, &mut acts);
        if acts.is_empty() {
            println!("dead end at {step}");
            break;
        }
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        use ao_sim::check::model::{Action, OpOutcome};
        let calm: Vec<_> = acts
            .iter()
            .copied()
            .filter(|a| {
                !matches!(
                    a,
                    Action::Crash
                        | Action::Op(
                            _,
                            OpOutcome::Fail | OpOutcome::FailHalf | OpOutcome::CrashAfter
                        )
                        | Action::Kill(..)
                        | Action::Tick
                )
            })
            .collect();
        let pool = if calm.is_empty() || (seed >> 20) % 10 == 0 {
            &acts
        } else {
            &calm
        };
        let a = pool[(seed >> 33) as usize % pool.len()];
        if let Some(n) = m.next_state(&s, a) {
            s = n;
        }
        seen.insert(format!("{:?}", s));
        if step % 5000 == 4999 {
            println!("step {step}: {} distinct", seen.len());
        }
        if step == 19990 {
            println!("{:?}", a);
        }
    }
    println!("{:#?}", s);
}
