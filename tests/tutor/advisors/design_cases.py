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
