"""Use cases for the evaluation designer with the task, domain and stakes an instructor gives them,
written for the word rules' tests (test_rules.py) and in no training set, so the learned reader
(test_eval_reader.py) is checked on them too."""

IN_OTHER_WORDS = [
    ("It writes a brief overview of each of our lease agreements.", "summarisation", "legal", True),
    ("It writes the scripts our analysts run against bank statements.", "code generation", "financial", True),
    (
        "It drafts social media posts about our recipes. Nobody is harmed if it is off.",
        "open-ended generation",
        "general",
        False,
    ),
    (
        "It sorts our recipes into categories. A wrong answer could hurt someone with an allergy.",
        "classification",
        "medical",
        True,
    ),
    (
        "It reads patient intake forms for our doctors and extracts each allergy.",
        "structured extraction",
        "medical",
        True,
    ),
]

WORDS_IN_THEIR_SENSE = [
    # "copies ... into" is extraction; adjusters and claims are insurance, so financial
    (
        "It copies the policy number and claim amount from each adjuster's email into our claims system.",
        "structured extraction",
        "financial",
        True,
    ),
    # "checks whether" is a choice; a Jira ticket is not a customer's ticket
    ("It checks whether each Jira ticket is a bug or a feature request.", "classification", "general", False),
    # the sentence on what a mistake would do names no task ("says something cruel, or misses ...")
    (
        "A friendly chat companion for lonely teenagers. If it says something cruel, or misses a cry for help, "
        "it could harm someone.",
        "open-ended generation",
        "general",
        True,
    ),
    # the domain is the work's, not the stakes sentence's ("court", "law")
    (
        "It answers shoppers' questions about late deliveries. If it gets things wrong we could end up in "
        "court for breaking consumer law.",
        "open-ended generation",
        "customer support",
        True,
    ),
    # "our return policy" is a noun, not the extraction verb "returns"
    (
        "It writes replies to shoppers asking about our return policy.",
        "open-ended generation",
        "customer support",
        False,
    ),
]

# Questions (and a request) a learner puts to the advisor after their use case: they ask about the
# suite, not about what the model does, so they must not change the task read from the use case
# ("test", "deploying it to production" and "unit tests" once pulled it towards code generation,
# "whether ... or not" towards classification, "evaluate" and "measure" a chatbot towards
# classification).
QUESTIONS = (
    "How should we test it before doctors use it?",
    "How should we evaluate it?",
    "What should we measure before launch?",
    "What should we check before deploying it to production?",
    "What unit tests should we run before launch?",
    "Should we check whether it is good enough or not?",
    "Please design an evaluation suite for it.",
)

RADIOLOGY = (
    "We fine-tuned a small model to turn radiology dictations into structured JSON reports "
    "(findings, impression, laterality)."
)
QUESTION_APPENDED = [
    # a newcomer's case, read as code generation with the question and as extraction without
    (RADIOLOGY + " How should we test it before doctors use it?", "structured extraction"),
    (
        "We fine-tuned a small model to turn radiology dictations into structured JSON reports. "
        "What should we check before deploying it to production?",
        "structured extraction",
    ),
    (
        "Our model sorts support emails into billing, shipping and returns. How should we evaluate it?",
        "classification",
    ),
    (
        "It writes a short summary of each customer call for the account manager. What should we measure before "
        "launch?",
        "summarisation",
    ),
    ("It answers shoppers' questions about late deliveries. How should we evaluate it?", "open-ended generation"),
    (
        "A chatbot that chats with hotel guests about room service and local tips. What should we measure before "
        "launch?",
        "open-ended generation",
    ),
    # a question first, then the use case
    ("How should we evaluate it? It sorts our recipes into categories.", "classification"),
]

# Questions that are the use case: the model's own choice put as a question, or the one sentence
# that says what the model does. They are read, not set aside.
QUESTION_IS_THE_USE_CASE = [
    ("Is this email phishing or legit? That's the only thing the model answers.", "classification"),
    (
        "What metrics should I use for a model that generates SQL for our hospital's billing database?",
        "code generation",
    ),
    (
        "Hello there! How should I test my model that condenses board minutes into three bullet points?",
        "summarisation",
    ),
]
