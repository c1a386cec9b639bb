/* smtp_reply.c: being written */
