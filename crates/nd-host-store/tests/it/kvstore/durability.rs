//! Crash durability of the KV store: a child process (this test binary, re-executed) writes
//! keys in a tight loop and reports each one after `set` returned; the parent kills it with
//! SIGKILL mid-stream, reopens the file, and checks that every acknowledged write is there,
//! whole, and that the byte accounting matches the data.

use std::io::{BufRead as _, BufReader, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use nd_host_store::clock::system_clock;
use nd_host_store::kvstore::KvStore;

/// When set (to a store path), the helper test below runs the writer loop on that path.
const CHILD_ENV: &str = "ND_KVSTORE_KILL9_CHILD_STORE";
/// The helper's full test name, used to re-execute only it.
const CHILD_TEST: &str =
    "kvstore::durability::kill9_child_writer_does_nothing_unless_spawned_by_the_kill9_test";
/// Acknowledged writes to wait for before the kill.
const KILL_AFTER: usize = 300;
/// The child stops by itself after this many writes, so it can never run forever.
const CHILD_MAX_WRITES: usize = 50_000;
/// Marks an acknowledgement line (the test harness may print its `test … ` header in front of
/// the first one).
const ACK: &str = "KVSTORE-ACK ";

/// The value written under key `k<i>`: its length (1..=4096) and every byte depend on `i`,
/// so a value from another key, a truncated value or a mix of old and new pages is caught.
fn value_for(i: usize) -> Vec<u8> {
    let len = 1 + (i * 7919) % 4096;
    let seed = (i as u32).wrapping_mul(2_654_435_761);
    (0..len)
        .map(|j| (seed.wrapping_add((j as u32).wrapping_mul(40_503)) >> 13) as u8)
        .collect()
}

fn key_for(i: usize) -> String {
    format!("k{i}")
}

/// Not a test of its own: the writer half of
/// [`acknowledged_writes_survive_kill_9_whole_and_accounted`]. Without `CHILD_ENV` it returns
/// at once (and passes); with it, it writes `k0, k1, …` and prints `KVSTORE-ACK <i>` after each `set`
/// returned.
#[test]
fn kill9_child_writer_does_nothing_unless_spawned_by_the_kill9_test() {
    let Some(path) = std::env::var_os(CHILD_ENV) else {
        return;
    };
    let store = KvStore::open(Path::new(&path), u64::MAX, system_clock()).unwrap();
    let mut out = std::io::stdout().lock();
    for i in 0..CHILD_MAX_WRITES {
        store.set(&key_for(i), &value_for(i)).unwrap();
        // A closed pipe (the parent is gone) ends the child here.
        writeln!(out, "{ACK}{i}").unwrap();
        out.flush().unwrap();
    }
}

#[test]
fn acknowledged_writes_survive_kill_9_whole_and_accounted() {
    let dir = tempfile::tempdir().unwrap();
    let path: PathBuf = dir.path().join("plugins/kill9/kvstore.redb");
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([CHILD_TEST, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, &path)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel::<String>();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });

    let mut first_ack: Option<Instant> = None;
    let mut acked: Vec<usize> = Vec::new();
    let record = |line: String, acked: &mut Vec<usize>| {
        if let Some(pos) = line.find(ACK) {
            acked.push(line[pos + ACK.len()..].trim().parse().unwrap());
        }
    };
    while acked.len() < KILL_AFTER {
        match rx.recv_timeout(Duration::from_secs(120)) {
            Ok(line) => {
                record(line, &mut acked);
                if !acked.is_empty() {
                    first_ack.get_or_insert_with(Instant::now);
                }
            }
            Err(e) => {
                let _ = child.kill();
                panic!(
                    "child stopped after {} acknowledged writes: {e:?}",
                    acked.len()
                );
            }
        }
    }
    let elapsed = first_ack.map(|t| t.elapsed()).unwrap_or_default();
    child.kill().unwrap(); // SIGKILL on Unix.
    let status = child.wait().unwrap();
    // Lines already in the pipe were acknowledged before the kill: they count too.
    reader.join().unwrap();
    for line in rx.try_iter() {
        record(line, &mut acked);
    }
    assert!(
        !status.success(),
        "the child must have been killed, not finished: {status:?}"
    );
    eprintln!(
        "kill -9 test: ~{:?} per durable set (acks 1..{KILL_AFTER} in {elapsed:?}), \
         {} acknowledged in total",
        elapsed / (KILL_AFTER as u32 - 1),
        acked.len()
    );
    // Acks come in order, without gaps.
    assert!(acked.iter().enumerate().all(|(n, &i)| n == i), "{acked:?}");
    let last_acked = acked.len() - 1;

    let store = KvStore::open(&path, u64::MAX, system_clock()).unwrap();
    for i in 0..=last_acked {
        let got = store.get(&key_for(i)).unwrap();
        assert!(
            got.as_deref() == Some(value_for(i).as_slice()),
            "acknowledged key k{i} lost or torn after kill -9 (len {:?})",
            got.map(|v| v.len())
        );
    }
    // At most the one write in flight at the kill got in without its ack, and it is whole.
    let keys = store.list("").unwrap();
    let mut present_bytes = 0u64;
    for key in &keys {
        let i: usize = key[1..].parse().unwrap();
        assert!(i <= last_acked + 1, "unexpected key {key}");
        let value = store.get(key).unwrap().unwrap();
        assert_eq!(value, value_for(i), "torn value under {key}");
        present_bytes += value.len() as u64;
    }
    assert!(keys.len() == last_acked + 1 || keys.len() == last_acked + 2);
    assert_eq!(store.storage_used().unwrap(), present_bytes);

    // The recovered store keeps working and keeps its accounting straight.
    store.set("after", b"12345").unwrap();
    assert_eq!(store.storage_used().unwrap(), present_bytes + 5);
    assert_eq!(store.delete_by_prefix("k").unwrap(), keys.len() as u64);
    assert_eq!(store.storage_used().unwrap(), 5);
}
