//! Running a scenario to completion and saying what it explored.

use std::time::{Duration, Instant};

use stateright::{Checker, Expectation, Model};

use crate::model::{Action, Scenario};

/// What one exhaustive run found.
pub struct Report {
    pub name: &'static str,
    pub states: usize,
    pub unique_states: usize,
    pub max_depth: usize,
    pub elapsed: Duration,
    /// Property name → the path to the first state that broke it (its
    /// actions, then the state), for every property with a counterexample.
    pub counterexamples: Vec<(&'static str, String)>,
    /// `sometimes` properties never reached.
    pub unreached: Vec<&'static str>,
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: {} states ({} unique), max depth {}, {:.2?}",
            self.name, self.states, self.unique_states, self.max_depth, self.elapsed
        )
    }
}

/// Explores every state of `scenario` breadth first (so a counterexample
/// is a shortest one) on `threads` threads.
pub fn check(scenario: Scenario, threads: usize) -> Report {
    let name = scenario.name;
    let steps = scenario.steps.clone();
    let properties = scenario.properties();
    let started = Instant::now();
    let checker = scenario.checker().threads(threads).spawn_bfs().join();
    let elapsed = started.elapsed();
    let mut counterexamples = Vec::new();
    let mut unreached = Vec::new();
    for property in &properties {
        let found = checker.discovery(property.name);
        match (&property.expectation, found) {
            (Expectation::Sometimes, None) => unreached.push(property.name),
            (Expectation::Sometimes, Some(_)) => {}
            (_, Some(path)) => {
                // People's steps by what they do, not by their index.
                let actions: Vec<String> = path
                    .into_actions()
                    .iter()
                    .map(|action| match action {
                        Action::Person(i) => format!("{:?}", steps.get(*i)),
                        other => format!("{other:?}"),
                    })
                    .collect();
                let last = checker
                    .discovery(property.name)
                    .map(|p| summary(p.last_state()))
                    .unwrap_or_default();
                counterexamples.push((property.name, format!("{}\n{last}", actions.join(" → "))));
            }
            (_, None) => {}
        }
    }
    Report {
        name,
        states: checker.state_count(),
        unique_states: checker.unique_state_count(),
        max_depth: checker.max_depth(),
        elapsed,
        counterexamples,
        unreached,
    }
}

/// The parts of a state a counterexample is read from, on a few lines.
pub fn summary(world: &crate::world::World) -> String {
    let tab: Vec<String> = world
        .tab
        .iter()
        .map(|r| format!("r{} key {:?} {:?}", r.rid, r.key, r.cells))
        .collect();
    format!(
        "tab [{}] watermark {}\ntable {:?}\nconflicts {:?}\nlost {:?}",
        tab.join(", "),
        world.tab_watermark,
        world.table,
        world.conflicts,
        crate::properties::lost(world),
    )
}
