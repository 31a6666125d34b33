/** Sent in capacity adverts so mixed versions on one LAN can be told apart in `ffmesh peers`. */
export const VERSION = '0.1.0'
