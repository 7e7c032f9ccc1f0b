"""Signals of the question bank, for parts that react to a finished quiz (study records).

``attempt_finished`` is sent once, when a member submits an attempt and it has been scored, with
``sender`` the attempt's model class and the keyword arguments ``attempt`` (the saved attempt), ``user``,
``quiz``, ``score`` and ``max_score`` (numbers) and ``passed`` (bool).
"""

from django.dispatch import Signal

attempt_finished = Signal()
