//! A commit's ops as a few set statements: the last op of each key wins, then per tree one
//! `DELETE … WHERE key = ANY($1)` and one `INSERT … SELECT FROM unnest($1, $2) ON CONFLICT
//! (key) DO UPDATE`, all in one transaction. A commit of a thousand ops is a handful of round
//! trips instead of one or two per op (see BENCHMARKS.md, "The PostgreSQL store").
//!
//! It owns how a commit is written and how it moves the entry counts (rows inserted, rows
//! deleted: `RETURNING (xmax = 0)` tells an insert from an update). It must not open
//! transactions of its own beyond the one per attempt, nor decide about retries (the caller
//! runs an attempt again when PostgreSQL aborted it as a deadlock victim).

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

    /// Writes the plan in one transaction on `c`, committed before it returns; the entries
    /// each tree gained (negative: lost). `fail_after` (a test hook) fails the transaction
    /// once that many ops are written, or just before its commit if it has fewer.
    pub(crate) fn write(
        &self,
        c: &mut Conn,
        fail_after: Option<usize>,
    ) -> Result<Result<Vec<i64>, StoreError>, Retry> {
        // Statements prepared (once per connection) before the transaction borrows the client.
        let mut statements = Vec::with_capacity(self.trees.len());
        for t in &self.trees {
            let name = table(t.tree);
            let delete = if t.deletes.is_empty() {
                None
            } else {
                Some(c.statement(&format!("DELETE FROM {name} WHERE key = ANY($1)"))?)
            };
            let put = if t.put_keys.is_empty() {
                None
            } else {
                Some(c.statement(&format!(
                    "INSERT INTO {name} (key, value) SELECT * FROM unnest($1::bytea[], $2::bytea[]) \
                     ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value RETURNING (xmax = 0)"
                ))?)
            };
            statements.push((delete, put));
        }
        let injected = || Ok(Err(StoreError::Engine("injected commit failure".into())));
        let mut moved = vec![0i64; Tree::ALL.len()];
        let mut written = 0usize;
        let mut tx = c.client()?.transaction()?;
        for (t, (delete, put)) in self.trees.iter().zip(&statements) {
            if let Some(delete) = delete {
                if fail_after.is_some_and(|n| written >= n) {
                    return injected();
                }
                moved[t.tree as usize] -= tx.execute(delete, &[&t.deletes])? as i64;
                written += t.deletes.len();
            }
            if let Some(put) = put {
                if fail_after.is_some_and(|n| written >= n) {
                    return injected();
                }
                let rows = tx.query(put, &[&t.put_keys, &t.put_values])?;
                moved[t.tree as usize] +=
                    rows.iter().filter(|r| r.get::<_, bool>(0)).count() as i64;
                written += t.put_keys.len();
            }
        }
        if fail_after.is_some() {
            return injected();
        }
        tx.commit()?;
        Ok(Ok(moved))
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
