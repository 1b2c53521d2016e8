//! A commit's ops as one SQL statement: the last op of each key wins, then per tree one
//! `DELETE … WHERE key = ANY($1)` and one `INSERT … SELECT FROM unnest($1, $2) ON CONFLICT
//! (key) DO UPDATE`, each a data-modifying part of one `WITH` statement (its own
//! transaction). A commit, of one op or a thousand, is one round trip (see BENCHMARKS.md).
//!
//! It owns how a commit is written and how it moves the entry counts (rows inserted, rows
//! deleted: `RETURNING (xmax = 0)` tells an insert from an update). It must not open
//! transactions of its own beyond the statement of each attempt, nor decide about retries
//! (the caller runs an attempt again when PostgreSQL aborted it as a deadlock victim).

use std::collections::BTreeMap;

use relance_daemon::store::{Op, StoreError, Tree};

use super::{Conn, Retry, op_key, table};

/// The ops of one tree, after the last op of each key won.
struct TreeOps {
    tree: Tree,
    put_keys: Vec<Vec<u8>>,
    put_values: Vec<Vec<u8>>,
    deletes: Vec<Vec<u8>>,
}

/// A commit ready to be written: trees in order, keys in order within each statement (one
/// lock order for every commit, so two commits on the same keys rarely deadlock).
pub(crate) struct Plan {
    trees: Vec<TreeOps>,
}

impl Plan {
    /// The net effect of `ops`: for each (tree, key), its last op (a put then a delete is a
    /// delete, a delete then a put a put), grouped by tree.
    pub(crate) fn of(ops: &[Op]) -> Plan {
        let mut last: BTreeMap<(Tree, &[u8]), &Op> = BTreeMap::new();
        for op in ops {
            last.insert(op_key(op), op);
        }
        let mut trees: Vec<TreeOps> = Vec::new();
        for ((tree, key), op) in last {
            if trees.last().is_none_or(|t| t.tree != tree) {
                trees.push(TreeOps {
                    tree,
                    put_keys: Vec::new(),
                    put_values: Vec::new(),
                    deletes: Vec::new(),
                });
            }
            let t = trees.last_mut().expect("pushed above");
            match op {
                Op::Put(_, _, v) => {
                    t.put_keys.push(key.to_vec());
                    t.put_values.push(v.clone());
                }
                Op::Delete(..) => t.deletes.push(key.to_vec()),
            }
        }
        Plan { trees }
    }

    /// Writes the plan on `c` as one SQL statement (one round trip, its own transaction:
    /// all of it or nothing), committed before it returns; the entries each tree gained
    /// (negative: lost). `fail_after` (a test hook) makes the statement fail after its writes
    /// (a division by zero in its last expression): none of them lands.
    pub(crate) fn write(
        &self,
        c: &mut Conn,
        fail_after: Option<usize>,
    ) -> Result<Result<Vec<i64>, StoreError>, Retry> {
        if self.trees.is_empty() {
            return Ok(Ok(vec![0; Tree::ALL.len()]));
        }
        let statement = c.statement(&self.sql(fail_after.is_some()))?;
        let mut params: Vec<&(dyn postgres::types::ToSql + Sync)> = Vec::new();
        for t in &self.trees {
            if !t.deletes.is_empty() {
                params.push(&t.deletes);
            }
            if !t.put_keys.is_empty() {
                params.push(&t.put_keys);
                params.push(&t.put_values);
            }
        }
        let row = match c.client()?.query_one(&statement, &params) {
            Err(e)
                if fail_after.is_some()
                    && e.code() == Some(&postgres::error::SqlState::DIVISION_BY_ZERO) =>
            {
                return Ok(Err(StoreError::Engine("injected commit failure".into())));
            }
            other => other?,
        };
        let mut moved = vec![0i64; Tree::ALL.len()];
        let mut column = 0;
        for t in &self.trees {
            if !t.deletes.is_empty() {
                moved[t.tree as usize] -= row.get::<_, i64>(column);
                column += 1;
            }
            if !t.put_keys.is_empty() {
                moved[t.tree as usize] += row.get::<_, i64>(column);
                column += 1;
            }
        }
        Ok(Ok(moved))
    }

    /// The statement of the plan: per tree, a data-modifying `WITH` part for its deletes
    /// (`DELETE … WHERE key = ANY`) and one for its puts (`INSERT … SELECT FROM unnest … ON
    /// CONFLICT (key) DO UPDATE`, `RETURNING (xmax = 0)`: inserted, not updated), then one
    /// count per part. A key is deleted or put, never both (the last op won), so the parts,
    /// which run on one snapshot, never touch the same row. Its text depends only on which
    /// parts the plan has (prepared once per connection per shape).
    fn sql(&self, fail: bool) -> String {
        let mut parts = Vec::new();
        let mut counts = Vec::new();
        let mut param = 0;
        for (i, t) in self.trees.iter().enumerate() {
            let name = table(t.tree);
            if !t.deletes.is_empty() {
                param += 1;
                parts.push(format!(
                    "d{i} AS (DELETE FROM {name} WHERE key = ANY(${param}::bytea[]) RETURNING 1)"
                ));
                counts.push(format!("(SELECT count(*) FROM d{i})"));
            }
            if !t.put_keys.is_empty() {
                parts.push(format!(
                    "p{i} AS (INSERT INTO {name} (key, value) \
                     SELECT * FROM unnest(${}::bytea[], ${}::bytea[]) \
                     ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value \
                     RETURNING (xmax = 0) AS inserted)",
                    param + 1,
                    param + 2
                ));
                param += 2;
                counts.push(format!(
                    "(SELECT count(*) FILTER (WHERE inserted) FROM p{i})"
                ));
            }
        }
        if fail {
            // Evaluated at run time, after every part (the select list runs in order): a
            // constant `1 / 0` would fail at planning, before any write.
            let last = counts.last().cloned().unwrap_or_else(|| "1".into());
            counts.push(format!("{last} / 0"));
        }
        format!("WITH {} SELECT {}", parts.join(", "), counts.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn put(t: Tree, k: &str, v: &str) -> Op {
        Op::Put(t, k.as_bytes().to_vec(), v.as_bytes().to_vec())
    }

    fn del(t: Tree, k: &str) -> Op {
        Op::Delete(t, k.as_bytes().to_vec())
    }

    /// A tree's expected ops: (tree, puts as key=value, deletes).
    type Want<'a> = (Tree, Vec<&'a str>, Vec<&'a str>);
    /// (tree, puts as key=value, deletes) of a plan, to compare with a table.
    type Shape = (Tree, Vec<String>, Vec<String>);

    fn shape(p: &Plan) -> Vec<Shape> {
        let s = |b: &Vec<u8>| String::from_utf8_lossy(b).into_owned();
        p.trees
            .iter()
            .map(|t| {
                (
                    t.tree,
                    t.put_keys
                        .iter()
                        .zip(&t.put_values)
                        .map(|(k, v)| format!("{}={}", s(k), s(v)))
                        .collect(),
                    t.deletes.iter().map(s).collect(),
                )
            })
            .collect()
    }

    #[test]
    fn the_last_op_of_each_key_wins_and_trees_and_keys_are_in_order() {
        use Tree::{Customers as C, Invoices as I};
        let cases: Vec<(&str, Vec<Op>, Vec<Want>)> = vec![
            (
                "one put",
                vec![put(C, "a", "1")],
                vec![(C, vec!["a=1"], vec![])],
            ),
            (
                "put then delete is a delete",
                vec![put(C, "a", "1"), del(C, "a")],
                vec![(C, vec![], vec!["a"])],
            ),
            (
                "delete then put is a put",
                vec![del(C, "a"), put(C, "a", "2")],
                vec![(C, vec!["a=2"], vec![])],
            ),
            (
                "two puts: the last value",
                vec![put(C, "a", "1"), put(C, "a", "2")],
                vec![(C, vec!["a=2"], vec![])],
            ),
            (
                "trees and keys sorted, each key once",
                vec![
                    put(I, "z", "1"),
                    put(C, "b", "1"),
                    del(I, "y"),
                    put(C, "a", "1"),
                ],
                vec![(C, vec!["a=1", "b=1"], vec![]), (I, vec!["z=1"], vec!["y"])],
            ),
        ];
        for (name, ops, want) in cases {
            let want: Vec<Shape> = want
                .into_iter()
                .map(|(t, p, d)| {
                    (
                        t,
                        p.into_iter().map(String::from).collect(),
                        d.into_iter().map(String::from).collect(),
                    )
                })
                .collect();
            let got = shape(&Plan::of(&ops));
            let got_order: Vec<Tree> = got.iter().map(|g| g.0).collect();
            let want_order: Vec<Tree> = want.iter().map(|w| w.0).collect();
            assert_eq!(got_order, want_order, "{name}: trees");
            for (g, w) in got.iter().zip(&want) {
                assert_eq!((&g.1, &g.2), (&w.1, &w.2), "{name}");
            }
        }
    }
}
