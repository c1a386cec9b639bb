/* addr.c: being written */
