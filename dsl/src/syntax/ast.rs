//! The abstract syntax tree of a `.relance` file.
//!
//! Every node carries the byte [`Span`] it was parsed from, so checks can point at it and the
//! formatter can find the comments around it. The tree is what the user wrote, nothing more:
//! names are not resolved and types not checked here (that is `check`), and no node is ever
//! invented to paper over a syntax error (the parser drops the broken item and reports it).

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// A byte range `start..end` in the source text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, PartialOrd, Ord)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Span {
        Span { start, end }
    }
}

/// A whole file: its top-level items in source order.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct File {
    pub items: Vec<Item>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum Item {
    Scenario(Scenario),
    Policy(Policy),
    Test(Test),
}

impl Item {
    pub fn span(&self) -> Span {
        match self {
            Item::Scenario(s) => s.span,
            Item::Policy(p) => p.span,
            Item::Test(t) => t.span,
        }
    }
}

/// A name written by the user: a scenario, step, role, field segment or customer id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

/// A string literal, unescaped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Str {
    pub value: String,
    pub span: Span,
}

/// A calendar date literal (`2026-01-31`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DateLit {
    pub value: NaiveDate,
    pub span: Span,
}

/// An amount with its currency (`1000 EUR`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MoneyLit {
    pub amount: Decimal,
    pub currency: String,
    pub span: Span,
}

/// `N days`, `N business days`, `N weeks`, `N months`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Duration {
    pub count: u32,
    pub unit: Unit,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Unit {
    Days,
    BusinessDays,
    Weeks,
    /// Calendar months, clamped to the last day of the target month.
    Months,
}

// ----- scenario -----------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Scenario {
    pub name: Ident,
    pub members: Vec<Member>,
    pub span: Span,
}

impl Scenario {
    /// The steps, in source order.
    pub fn steps(&self) -> Vec<&Step> {
        self.members
            .iter()
            .filter_map(|m| match &m.kind {
                MemberKind::Step(st) => Some(st),
                _ => None,
            })
            .collect()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Member {
    pub kind: MemberKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum MemberKind {
    Title(Str),
    Applies(Expr),
    GroupBy(GroupKey),
    Calendar(Ident),
    Tolerance(Tolerance),
    Grace(Duration),
    /// `catch up gradually every DURATION` / `catch up to latest`.
    CatchUp(CatchUp),
    /// `payments pay principal first` / `payments pay charges first`.
    Payments(PaymentOrder),
    /// `charges keep the case open`.
    ChargesKeepOpen,
    /// `late-interest 12.5%` / `late-interest 3 times legal rate`: the rate of `charge
    /// late-interest` in this scenario.
    LateInterest(LateInterestRate),
    /// `per customer`: account-level dunning (the state belongs to the customer).
    PerCustomer,
    /// `level NAME when CONDITION { … }` (in a `per customer` scenario).
    Level(Level),
    /// `cadence DURATION`: the contact cadence (one message per customer, channel and day;
    /// at least DURATION between two days with messages).
    Cadence(Duration),
    Step(Step),
    Handler(Handler),
}

/// How a case catches up with steps whose dates passed before it could fire them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum CatchUp {
    /// Today's rule: the latest past step (and the `required` ones).
    Latest,
    /// The first past step, then one more per interval until caught up.
    Gradually(Duration),
}

/// `level NAME when CONDITION { … }`: a state of a customer's account, entered when its
/// condition holds (the highest such level wins).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Level {
    pub name: Ident,
    pub when: Expr,
    pub body: Block,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum GroupKey {
    Customer,
    Invoice,
}

/// Where a payment goes first: the invoice's principal or its unpaid charges.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum PaymentOrder {
    PrincipalFirst,
    ChargesFirst,
}

/// The rate a scenario sets for late interest.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub enum LateInterestRate {
    /// A yearly percentage (`12.5%`).
    Percent(Decimal),
    /// A multiple of the legal interest rate of each half-year (`3 times legal rate`).
    LegalTimes(Decimal),
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum Tolerance {
    Amount(MoneyLit),
    Percent(Decimal),
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Step {
    pub name: Ident,
    pub anchor: Anchor,
    pub offset: Option<Offset>,
    /// `end of month` / `on day N`, applied after the offset.
    pub day_of_month: Option<DayOfMonth>,
    /// `repeat every … times N until COND`.
    pub repeat: Option<Box<Repeat>>,
    pub required: bool,
    pub body: Block,
    pub span: Span,
}

/// Where in its month a step's date lands, after the offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DayOfMonth {
    pub kind: DayOfMonthKind,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum DayOfMonthKind {
    /// `end of month`: the last day of the month.
    EndOfMonth,
    /// `on day N`: day N of the month (checked 1–31, clamped to the month's last day).
    Day(u32),
}

/// `times N` of a `repeat`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RepeatTimes {
    pub count: u32,
    pub span: Span,
}

/// `repeat every DURATION [times N] [until COND]`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Repeat {
    pub every: Duration,
    /// How many times the step fires in all (the first time included).
    pub times: Option<RepeatTimes>,
    pub until: Option<Expr>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Anchor {
    pub kind: AnchorKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum AnchorKind {
    Due,
    Issued,
    Step(Ident),
}

/// `+ 3 days`, `- 5 business days`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Offset {
    pub negative: bool,
    pub duration: Duration,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Handler {
    /// The event words as written (`dispute opened`); resolved by the checker.
    pub event: Vec<Ident>,
    pub event_span: Span,
    pub body: Block,
    pub span: Span,
}

impl Handler {
    /// The event words joined by one space (`dispute opened`), as `schema::event` reads them.
    pub fn event_words(&self) -> String {
        self.event
            .iter()
            .map(|w| w.name.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Block {
    pub stmts: Vec<Stmt>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Stmt {
    pub kind: StmtKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum StmtKind {
    SkipWhen(Expr),
    StopWhen(Expr),
    If(If),
    Goto(Ident),
    Stop(Option<Str>),
    Pause,
    Resume(Option<Duration>),
    WaitUntil(Expr),
    Action(Action),
}

impl StmtKind {
    /// The keywords the statement starts with, as written (`skip when`, `email`,
    /// `block deliveries`): its entry in `schema::STATEMENTS`.
    pub fn keywords(&self) -> &'static str {
        match self {
            StmtKind::SkipWhen(_) => "skip when",
            StmtKind::StopWhen(_) => "stop when",
            StmtKind::If(_) => "if",
            StmtKind::Goto(_) => "goto",
            StmtKind::Stop(_) => "stop",
            StmtKind::Pause => "pause",
            StmtKind::Resume(_) => "resume",
            StmtKind::WaitUntil(_) => "wait until",
            StmtKind::Action(a) => a.kind.keywords(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct If {
    pub cond: Expr,
    pub then: Block,
    pub otherwise: Option<Else>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum Else {
    /// `else if …`: a nested `if` statement.
    If(Box<Stmt>),
    Block(Block),
}

// ----- actions ------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Action {
    pub kind: ActionKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum ActionKind {
    Email {
        template: Str,
        to: Vec<Ident>,
        cc: Vec<Ident>,
    },
    Sms {
        template: Str,
        to: Vec<Ident>,
    },
    Letter {
        template: Str,
        to: Vec<Ident>,
        registered: bool,
    },
    Call {
        who: Ident,
        assign: Option<Ident>,
    },
    Task {
        text: Str,
        assign: Option<Ident>,
    },
    Webhook {
        name: Str,
    },
    Escalate(Escalation),
    Alert {
        text: Str,
        to: Vec<Ident>,
    },
    BlockDeliveries,
    UnblockDeliveries,
    Charge(Charge),
    Tag(Str),
}

impl ActionKind {
    /// The keywords the action starts with, as written (`email`, `block deliveries`).
    pub fn keywords(&self) -> &'static str {
        match self {
            ActionKind::Email { .. } => "email",
            ActionKind::Sms { .. } => "sms",
            ActionKind::Letter { .. } => "letter",
            ActionKind::Call { .. } => "call",
            ActionKind::Task { .. } => "task",
            ActionKind::Webhook { .. } => "webhook",
            ActionKind::Escalate(_) => "escalate",
            ActionKind::Alert { .. } => "alert",
            ActionKind::BlockDeliveries => "block deliveries",
            ActionKind::UnblockDeliveries => "unblock deliveries",
            ActionKind::Charge(_) => "charge",
            ActionKind::Tag(_) => "tag",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum Escalation {
    Agency(Option<Str>),
    Litigation,
}

/// A charge. The amounts after `indemnity` and `late-interest` are only allowed in `expect`
/// lines, where they state the computed amount.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum Charge {
    Indemnity(Option<MoneyLit>),
    LateInterest(Option<MoneyLit>),
    Fixed {
        amount: MoneyLit,
        label: Str,
    },
    /// `charge 5% "LABEL" min MONEY max MONEY`: a percentage of the outstanding principal;
    /// `amount` is the computed amount, in `expect` lines only.
    Percent {
        rate: Decimal,
        label: Str,
        min: Option<MoneyLit>,
        max: Option<MoneyLit>,
        amount: Option<MoneyLit>,
    },
}

// ----- expressions --------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum ExprKind {
    Number(Decimal),
    Money(MoneyLit),
    Percent(Decimal),
    Duration(Duration),
    Date(NaiveDate),
    Str(String),
    Bool(bool),
    List(Vec<Expr>),
    Rule {
        name: Str,
        args: Vec<Expr>,
    },
    /// A field path (`customer.risk_score`), or in test blocks a bare word (`ACME`).
    Path(Vec<Ident>),
    Paren(Box<Expr>),
    Unary {
        op: UnaryOp,
        expr: Box<Expr>,
    },
    Binary {
        op: BinOp,
        lhs: Box<Expr>,
        rhs: Box<Expr>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum UnaryOp {
    Not,
    Neg,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BinOp {
    Or,
    And,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    In,
    NotIn,
    Add,
    Sub,
    Mul,
    Div,
}

impl BinOp {
    /// The operator as written in source.
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Or => "or",
            BinOp::And => "and",
            BinOp::Eq => "==",
            BinOp::Ne => "!=",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::In => "in",
            BinOp::NotIn => "not in",
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
        }
    }
}

// ----- policy -------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Policy {
    pub name: Ident,
    pub rules: Vec<PolicyRule>,
    pub span: Span,
}

/// `use SCENARIO when EXPR` or `use SCENARIO otherwise` (`when` is `None`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PolicyRule {
    pub scenario: Ident,
    pub when: Option<Expr>,
    pub span: Span,
}

// ----- test ---------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Test {
    pub name: Str,
    pub members: Vec<TestMember>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TestMember {
    pub kind: TestMemberKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum TestMemberKind {
    Use(Ident),
    From(DateLit),
    Until(DateLit),
    Customer {
        id: Entity,
        fields: Vec<Field>,
    },
    Invoice {
        id: Entity,
        fields: Vec<Field>,
    },
    Event {
        date: DateLit,
        event: TestEvent,
    },
    Expect(Expect),
    /// `expect error F-1 "text"`: the case of this invoice ends in error, with a message
    /// containing the text.
    ExpectError {
        invoice: Entity,
        message: Str,
    },
}

/// A customer or invoice id: a bare word (`F-1`) or a quoted string (`"2026/001"`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entity {
    pub id: String,
    pub quoted: bool,
    pub span: Span,
}

/// `risk_score 20` inside a test customer or invoice.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Field {
    pub name: Ident,
    pub value: Expr,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum TestEvent {
    Payment {
        invoice: Entity,
        amount: MoneyLit,
    },
    Dispute {
        invoice: Entity,
        code: Str,
        amount: Option<MoneyLit>,
    },
    Resolve {
        invoice: Entity,
    },
    Promise {
        invoice: Entity,
        date: DateLit,
        amount: Option<MoneyLit>,
    },
    CreditNote {
        invoice: Entity,
        amount: MoneyLit,
    },
    WriteOff {
        invoice: Entity,
    },
    Risk {
        customer: Entity,
        score: i64,
    },
    Outcome {
        invoice: Entity,
        text: Str,
        promise: Option<DateLit>,
    },
    Bounce {
        customer: Entity,
        role: Ident,
    },
    /// `tag added ACME "key-account"` / `tag removed ACME "key-account"`.
    Tag {
        customer: Entity,
        tag: Str,
        added: bool,
    },
    /// `write off reversed F-1 ["reason"]`.
    WriteOffReversed {
        invoice: Entity,
        reason: Option<Str>,
    },
    /// `payment failed F-1 "INSUFFICIENT_FUNDS"`.
    PaymentFailed {
        invoice: Entity,
        reason: Str,
    },
    /// `payment reversed F-1 400 EUR ["bounced_cheque"] [of 2026-02-10]`.
    PaymentReversed {
        invoice: Entity,
        amount: MoneyLit,
        reason: Option<Str>,
        /// The date of the payment reversed.
        paid_on: Option<DateLit>,
    },
    /// `moved F-1 to scenario NAME [step STEP] by "who" because "why"`.
    Moved {
        invoice: Entity,
        scenario: Ident,
        step: Option<Ident>,
        by: Str,
        because: Str,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum Expect {
    Snapshot,
    Lines(Vec<ExpectLine>),
}

/// `2026-02-03 email "reminder-1" to accounting for F-1, F-2`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExpectLine {
    pub date: DateLit,
    pub action: Action,
    pub invoices: Vec<Entity>,
    pub span: Span,
}
