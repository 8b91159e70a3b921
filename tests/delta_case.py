"""The hand-solved case of the delta-plan tests (scenarios, CLI, HTTP): two lines, by hand.

Meta: 0.05 purchases per EUR up to 1,000, then 0.03 up to 2,000; TikTok: 0.04 up to 500, then
0.025 up to 1,500.
"""

CURVES = {
    "currency": "EUR",
    "result_type": "purchases",
    "lines": [
        {
            "network": "meta",
            "segment": "all",
            "period": "2027-01",
            "points": [[0, 0], [1000, 50], [2000, 80]],
        },
        {
            "network": "tiktok",
            "segment": "all",
            "period": "2027-01",
            "points": [[0, 0], [500, 20], [1500, 45]],
        },
    ],
}
