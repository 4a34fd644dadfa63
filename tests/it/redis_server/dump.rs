//! Reads every key of one node, whatever its type, so privacy tests can
//! search all of Redis for an IP address or a user agent.
//!
//! It does not decode values: Kruimel's encodings belong to the store.

/// One key and every value component it holds: a string's value, a hash's
/// fields and values, a set's or sorted set's members, a list's items.
pub type DumpedKey = (String, Vec<Vec<u8>>);

/// Every key on the node behind `connection`, sorted by key.
pub(super) fn every_key(connection: &mut redis::Connection) -> Vec<DumpedKey> {
    let mut keys: Vec<Vec<u8>> = Vec::new();
    let mut cursor: u64 = 0;
    loop {
        let (next, batch): (u64, Vec<Vec<u8>>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("COUNT")
            .arg(1000)
            .query(connection)
            .expect("SCAN");
        keys.extend(batch);
        if next == 0 {
            break;
        }
        cursor = next;
    }
    // SCAN may return a key more than once.
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter_map(|key| {
            let values = read_values(connection, &key)?;
            Some((String::from_utf8_lossy(&key).into_owned(), values))
        })
        .collect()
}

/// `None` for a key that expired since SCAN listed it.
fn read_values(connection: &mut redis::Connection, key: &[u8]) -> Option<Vec<Vec<u8>>> {
    let kind: String = redis::cmd("TYPE").arg(key).query(connection).expect("TYPE");
    let mut read = match kind.as_str() {
        "none" => return None,
        "string" => {
            let value: Option<Vec<u8>> = redis::cmd("GET").arg(key).query(connection).expect("GET");
            return value.map(|value| vec![value]);
        }
        "hash" => redis::cmd("HGETALL"),
        "set" => redis::cmd("SMEMBERS"),
        "zset" => redis::cmd("ZRANGE"),
        "list" => redis::cmd("LRANGE"),
        // Failing beats skipping: a privacy search must see every key.
        other => panic!(
            "dump cannot read key {:?} of type {other}; teach read_values that type",
            String::from_utf8_lossy(key)
        ),
    };
    read.arg(key);
    if matches!(kind.as_str(), "zset" | "list") {
        read.arg(0).arg(-1);
    }
    Some(
        read.query(connection)
            .unwrap_or_else(|error| panic!("reading a {kind}: {error}")),
    )
}

#[cfg(test)]
mod tests {
    use super::super::{RedisServer, run};
    use super::*;

    fn bytes(items: &[&str]) -> Vec<Vec<u8>> {
        items.iter().map(|item| item.as_bytes().to_vec()).collect()
    }

    #[test]
    fn dump_reads_every_value_type_and_flushall_empties_it() {
        let server = RedisServer::start();
        let mut connection = server.connection();
        run(&mut connection, &["SET", "s", "81.204.1.2", "PX", "60000"]);
        run(&mut connection, &["HSET", "h", "field", "value"]);
        run(&mut connection, &["SADD", "set", "only"]);
        run(&mut connection, &["ZADD", "z", "2", "second", "1", "first"]);
        run(&mut connection, &["RPUSH", "l", "a", "b"]);

        let expected: Vec<DumpedKey> = vec![
            ("h".into(), bytes(&["field", "value"])),
            ("l".into(), bytes(&["a", "b"])),
            ("s".into(), bytes(&["81.204.1.2"])),
            ("set".into(), bytes(&["only"])),
            ("z".into(), bytes(&["first", "second"])),
        ];
        assert_eq!(server.dump(), expected);

        server.flushall();
        assert_eq!(server.dump(), Vec::<DumpedKey>::new());
    }

    #[test]
    #[should_panic(expected = "dump cannot read key \"events\" of type stream")]
    fn dump_refuses_a_type_it_cannot_read_rather_than_skip_it() {
        let server = RedisServer::start();
        run(
            &mut server.connection(),
            &["XADD", "events", "*", "ip", "81.204.1.2"],
        );
        server.dump();
    }
}
