"""Customer feedback on updates: "Was this update helpful? Yes / No" (DESIGN.md decision 12).

``tokens``   signed per-update tokens carried by the status page's form and the email links
``model``    a reader's answer, counts per incident and update, the per-phase report
``collect``  what the feedback endpoint does with a POST (GET and HEAD never count)
"""
