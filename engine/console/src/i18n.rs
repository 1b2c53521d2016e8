//! The console's words in French and English, and the choice between them from the browser's
//! `Accept-Language` (the first of `fr` / `en` by the browser's order of preference and
//! quality; English when neither is asked for). Numbers, amounts and dates are formatted by
//! `relance_templates::filters` (ICU4X), never here.
//!
//! This module owns the catalogue; it must not format values.

use std::collections::BTreeMap;

use axum::http::HeaderMap;
use axum::http::header::ACCEPT_LANGUAGE;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    Fr,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Fr => "fr",
        }
    }

    /// The language a request asks for.
    pub fn of(headers: &HeaderMap) -> Lang {
        let header = headers
            .get(ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        Lang::from_accept(header)
    }

    /// The best of `fr` and `en` in an `Accept-Language` value.
    pub fn from_accept(header: &str) -> Lang {
        let mut best: Option<(f32, Lang)> = None;
        for part in header.split(',') {
            let mut bits = part.trim().split(';');
            let tag = bits.next().unwrap_or("").trim().to_ascii_lowercase();
            let q = bits
                .find_map(|b| b.trim().strip_prefix("q="))
                .and_then(|q| q.parse::<f32>().ok())
                .unwrap_or(1.0);
            let lang = match tag.split('-').next() {
                Some("fr") => Lang::Fr,
                Some("en") => Lang::En,
                _ => continue,
            };
            if q > 0.0 && best.is_none_or(|(b, _)| q > b) {
                best = Some((q, lang));
            }
        }
        best.map_or(Lang::En, |(_, l)| l)
    }

    /// Every message in this language, by key (handed to templates as `t`).
    pub fn catalogue(self) -> BTreeMap<&'static str, &'static str> {
        MESSAGES
            .iter()
            .map(|(k, en, fr)| (*k, if self == Lang::Fr { *fr } else { *en }))
            .collect()
    }
}

/// Key, English, French.
const MESSAGES: &[(&str, &str, &str)] = &[
    ("app", "Relance console", "Console Relance"),
    ("skip", "Skip to content", "Aller au contenu"),
    ("nav", "Main", "Principal"),
    ("today", "Today", "Aujourd'hui"),
    ("customers", "Customers", "Clients"),
    ("outbox", "Outbox", "Envois"),
    ("sign_in", "Sign in", "Se connecter"),
    ("sign_out", "Sign out", "Se déconnecter"),
    ("user", "User name", "Nom d'utilisateur"),
    ("password", "Password", "Mot de passe"),
    ("or_token", "Or an API token", "Ou un jeton d'API"),
    ("token", "API token", "Jeton d'API"),
    (
        "bad_sign_in",
        "Unknown user or wrong password.",
        "Utilisateur inconnu ou mot de passe erroné.",
    ),
    (
        "too_many",
        "Too many failed sign-ins: wait a minute.",
        "Trop d'échecs de connexion : attendez une minute.",
    ),
    ("signed_in_as", "Signed in as", "Connecté en tant que"),
    ("role", "Role", "Rôle"),
    ("agenda_of", "Agenda of", "Agenda du"),
    (
        "nothing_today",
        "Nothing on the agenda today.",
        "Rien à l'agenda aujourd'hui.",
    ),
    ("kind", "Kind", "Type"),
    ("call", "Call", "Appel"),
    ("task", "Task", "Tâche"),
    ("alert", "Alert", "Alerte"),
    ("customer", "Customer", "Client"),
    ("contact", "Contact", "Contact"),
    ("phone", "Phone", "Téléphone"),
    ("invoice", "Invoice", "Facture"),
    ("invoices", "Invoices", "Factures"),
    ("amount", "Amount", "Montant"),
    ("outstanding", "Outstanding", "Restant dû"),
    ("due", "Due", "Échéance"),
    ("days_late", "Days late", "Jours de retard"),
    ("step", "Scenario step", "Étape du scénario"),
    ("for", "For", "Pour"),
    ("outcome", "Outcome", "Issue"),
    ("record", "Record", "Enregistrer"),
    (
        "reached_promise",
        "Reached: promise to pay",
        "Joint : promesse de paiement",
    ),
    ("dispute", "Dispute", "Litige"),
    ("no_answer", "No answer", "Pas de réponse"),
    ("wrong_number", "Wrong number", "Mauvais numéro"),
    ("done", "Done", "Fait"),
    ("reschedule", "Reschedule", "Reporter"),
    ("promise_date", "Promised date", "Date promise"),
    ("promise_amount", "Promised amount", "Montant promis"),
    ("dispute_code", "Dispute code", "Code du litige"),
    ("dispute_amount", "Disputed amount", "Montant contesté"),
    ("comment", "Comment", "Commentaire"),
    ("reschedule_to", "Call again on", "Rappeler le"),
    ("recorded", "Recorded", "Enregistré"),
    ("case_actions", "Case actions", "Actions sur le dossier"),
    ("pause_case", "Pause dunning", "Suspendre les relances"),
    (
        "pause_until",
        "Until (empty: until resumed)",
        "Jusqu’au (vide : jusqu’à la reprise)",
    ),
    ("resume_case", "Resume dunning", "Reprendre les relances"),
    (
        "postpone_step",
        "Postpone the next step",
        "Reporter la prochaine étape",
    ),
    ("postpone_to", "To", "Au"),
    ("add_note", "Add a note", "Ajouter une remarque"),
    ("note", "Note", "Remarque"),
    ("search", "Search", "Rechercher"),
    ("sort", "Sort by", "Trier par"),
    ("overdue", "Overdue", "Échu"),
    ("scenario", "Scenario", "Scénario"),
    ("risk", "Risk", "Risque"),
    ("name", "Name", "Nom"),
    ("next_page", "Next page", "Page suivante"),
    ("previous_page", "Previous page", "Page précédente"),
    ("first_page", "First page", "Première page"),
    ("balance", "Balance", "Solde"),
    ("aged", "Aged balance", "Balance âgée"),
    ("not_due", "Not due", "Non échu"),
    ("contacts", "Contacts", "Contacts"),
    ("email", "Email", "E-mail"),
    ("open_invoices", "Open invoices", "Factures ouvertes"),
    ("state", "State", "État"),
    (
        "next",
        "What the engine will do next",
        "Ce que le moteur fera ensuite",
    ),
    ("date", "Date", "Date"),
    ("what", "What", "Quoi"),
    ("timeline", "What happened", "Historique"),
    ("disputes", "Open disputes", "Litiges ouverts"),
    ("promises", "Promises", "Promesses"),
    (
        "record_promise",
        "Record a payment promise",
        "Enregistrer une promesse de paiement",
    ),
    ("open_dispute", "Open a dispute", "Ouvrir un litige"),
    ("status", "Status", "Statut"),
    ("channel", "Channel", "Canal"),
    ("reason", "Reason", "Raison"),
    ("attempts", "Attempts", "Tentatives"),
    ("preview", "Preview", "Aperçu"),
    ("retry", "Retry", "Relancer l'envoi"),
    ("pending", "Pending", "En attente"),
    ("retrying", "Retrying", "Nouvel essai"),
    ("dead", "Dead", "En échec"),
    ("delivered", "Sent", "Envoyés"),
    ("to", "To", "À"),
    ("subject", "Subject", "Objet"),
    ("message", "Message", "Message"),
    ("back", "Back", "Retour"),
    (
        "forbidden",
        "Your role may not do this.",
        "Votre rôle ne permet pas cette action.",
    ),
    ("not_found", "Not found.", "Introuvable."),
    ("error", "Something went wrong", "Une erreur est survenue"),
    (
        "nothing_for_role",
        "Your role has no console page.",
        "Votre rôle n'a pas de page dans la console.",
    ),
    ("none", "None.", "Aucun."),
    ("unassigned", "unassigned", "non attribué"),
    ("imports", "Imports", "Imports"),
    (
        "upload_files",
        "Upload accounting files",
        "Déposer des fichiers comptables",
    ),
    (
        "files_hint",
        "Files (CSV of customers, contacts, invoices or payments, events.csv, FEC, camt.053)",
        "Fichiers (CSV clients, contacts, factures ou paiements, events.csv, FEC, camt.053)",
    ),
    (
        "dry_run",
        "Check (nothing written)",
        "Vérifier (rien n'est écrit)",
    ),
    (
        "dry_run_report",
        "What this import would change",
        "Ce que cet import changerait",
    ),
    ("import_applied", "Import applied", "Import appliqué"),
    ("import_nothing", "Nothing written", "Rien n'a été écrit"),
    ("import_refused", "Import refused", "Import refusé"),
    (
        "nothing_written",
        "Nothing was written.",
        "Rien n'a été écrit.",
    ),
    ("problems", "Problems", "Problèmes"),
    ("file_place", "File", "Fichier"),
    ("line", "Line", "Ligne"),
    ("field", "Field", "Champ"),
    ("problem", "Problem", "Problème"),
    ("files", "Files", "Fichiers"),
    ("rows", "Rows", "Lignes"),
    ("would_change", "Would change", "Changerait"),
    ("changed", "Changed", "Changé"),
    ("new", "New", "Nouveaux"),
    ("updated", "Updated", "Modifiés"),
    ("unchanged", "Unchanged", "Inchangés"),
    ("payments", "Payments", "Paiements"),
    ("other_events", "Other events", "Autres événements"),
    ("notes", "Notes", "Remarques"),
    (
        "bank_proposals",
        "Bank transactions to match",
        "Opérations bancaires à rapprocher",
    ),
    (
        "proposals_not_applied",
        "Not matched with certainty: proposed, never applied. Record them as payments once checked.",
        "Non rapprochées avec certitude : proposées, jamais appliquées. Enregistrez-les comme paiements après vérification.",
    ),
    ("apply", "Apply the import", "Appliquer l'import"),
    (
        "proposals_choose",
        "Not matched with certainty: confirm each as a payment of one invoice, or reject it (rejected ones are not applied).",
        "Non rapprochées avec certitude : confirmez chacune comme paiement d’une facture, ou rejetez-la (les rejetées ne sont pas appliquées).",
    ),
    (
        "proposals_confirmed",
        "Bank transactions confirmed",
        "Opérations bancaires confirmées",
    ),
    ("not_written", "not written", "non enregistrée"),
    ("payer", "Payer", "Payeur"),
    ("reject", "Reject", "Rejeter"),
    ("confirm_pays", "Confirm: pays", "Confirmer : paie"),
    ("nothing_to_apply", "Nothing to apply.", "Rien à appliquer."),
    (
        "already_imported",
        "Already imported as batch",
        "Déjà importé : lot",
    ),
    ("batch", "Batch", "Lot"),
    ("portfolio", "Portfolio", "Portefeuille"),
    ("chart_table", "Figures", "Chiffres"),
    ("scenarios", "Scenarios", "Scénarios"),
    ("deployment", "Deployment", "Déploiement"),
    ("latest", "latest", "le plus récent"),
    ("version", "Version", "Version"),
    ("running_cases", "Running cases", "Dossiers en cours"),
    ("ladder", "The ladder", "L'échelle de relance"),
    ("steps", "Steps", "Étapes"),
    ("step_name", "Step", "Étape"),
    ("when", "When", "Quand"),
    (
        "day_from_due",
        "Day from due date",
        "Jour depuis l'échéance",
    ),
    ("what_if", "What if", "Et si"),
    (
        "what_if_invoice",
        "Invoice of the store",
        "Facture enregistrée",
    ),
    (
        "what_if_or",
        "or an invoice typed in:",
        "ou une facture saisie :",
    ),
    ("segment", "Segment", "Segment"),
    ("plan", "Plan", "Planifier"),
    ("planned_timeline", "Planned timeline", "Calendrier prévu"),
    ("held", "What the engine holds", "Ce que le moteur retient"),
    (
        "cadence_waits",
        "Messages held by the contact cadence",
        "Messages retenus par la cadence de contact",
    ),
    ("goes_on", "Goes on", "Part le"),
    ("due_on", "Was due on", "Prévu le"),
    ("step", "Step", "Étape"),
    ("action", "Action", "Action"),
    (
        "account_level",
        "Account-level dunning",
        "Relance au niveau du compte",
    ),
    ("level", "Level", "Niveau"),
    ("level_clear", "clear", "aucun"),
    ("since", "Since", "Depuis"),
    ("currency", "Currency", "Devise"),
    ("installments", "Installments", "Échéancier"),
    ("unpaid", "Unpaid", "Reste dû"),
];

#[cfg(test)]
mod tests {
    use super::Lang;

    #[test]
    fn the_browser_preference_picks_the_language() {
        let rows = [
            ("fr-FR,fr;q=0.9,en;q=0.8", Lang::Fr),
            ("en-GB,en;q=0.9,fr;q=0.8", Lang::En),
            ("de-DE,fr;q=0.5,en;q=0.4", Lang::Fr),
            ("de-DE", Lang::En),
            ("", Lang::En),
            ("en;q=0.2, fr;q=0.7", Lang::Fr),
        ];
        for (header, want) in rows {
            assert_eq!(Lang::from_accept(header), want, "{header}");
        }
    }

    #[test]
    fn both_languages_have_every_message() {
        for (k, en, fr) in super::MESSAGES {
            assert!(!en.is_empty() && !fr.is_empty(), "{k}");
        }
        assert_eq!(Lang::Fr.catalogue()["today"], "Aujourd'hui");
    }
}
