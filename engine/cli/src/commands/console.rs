//! `relance console hash-password`: reads a password (one line of standard input, never an
//! argument, so it stays out of the shell history and the process list) and prints its argon2
//! PHC hash for `[[console.users]]`. It must not print the password.

use std::io::BufRead;

use super::exit;

pub fn hash_password() -> u8 {
    let mut line = String::new();
    if let Err(e) = std::io::stdin().lock().read_line(&mut line) {
        eprintln!("error: cannot read the password: {e}");
        return exit::USAGE;
    }
    let password = line.trim_end_matches(['\r', '\n']);
    if password.chars().count() < 8 {
        eprintln!("error: a console password has at least 8 characters");
        return exit::USAGE;
    }
    match relance_console::password::hash(password) {
        Ok(h) => {
            println!("{h}");
            exit::OK
        }
        Err(e) => {
            eprintln!("error: {e}");
            exit::USAGE
        }
    }
}
