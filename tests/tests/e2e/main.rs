//! End-to-end tests: real servers on port 0, several enrolled devices with
//! their own encrypted stores, faults, kills and PostgreSQL. One binary.

mod architecture;
mod auth;
mod bench;
mod bindings;
mod cli;
mod dashboard;
mod devices;
mod faults;
mod forms;
mod fuzz_corpus;
mod hub;
mod integrity;
mod leaders;
mod links;
mod practitioner;
mod processes;
mod safeguarding;
mod schedules;

/// Runs `hark serve` when this binary is started as a child server (see
/// `hark_tests::ChildServer`); otherwise does nothing.
#[test]
#[ignore = "entry point of a child server process, started by the tests themselves"]
fn child_server() {
    hark_tests::child_server_main();
}
