/* jobq.c: being written */
