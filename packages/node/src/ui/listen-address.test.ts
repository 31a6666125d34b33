import { describe, expect, it } from 'vitest'
import { dashboardUrl, parseListenAddress } from './listen-address.js'

describe('ui.listen', () => {
  it('reads host:port with IPv4, IPv6 in brackets or localhost, and knows loopback', () => {
    expect(parseListenAddress('127.0.0.1:7676')).toEqual({ host: '127.0.0.1', port: 7676, loopback: true })
    expect(parseListenAddress('[::1]:0')).toEqual({ host: '::1', port: 0, loopback: true })
    expect(parseListenAddress('localhost:80')).toEqual({ host: 'localhost', port: 80, loopback: true })
    expect(parseListenAddress('0.0.0.0:7676')).toEqual({ host: '0.0.0.0', port: 7676, loopback: false })
    expect(parseListenAddress('[::]:7676')).toEqual({ host: '::', port: 7676, loopback: false })
    expect(parseListenAddress('192.168.1.4:7676')?.loopback).toBe(false)
    for (const bad of [
      '7676',
      '127.0.0.1',
      'nas.local:7676',
      '::1:7676',
      '[127.0.0.1]:1',
      '1.2.3.4:65536',
      '1.2.3.4:-1',
      '',
      '256.1.1.1:1'
    ])
      expect(parseListenAddress(bad), bad).toBeNull()
  })

  it('gives a URL a browser on this machine can open', () => {
    expect(dashboardUrl('127.0.0.1', 7676)).toBe('http://127.0.0.1:7676/')
    expect(dashboardUrl('0.0.0.0', 7676)).toBe('http://127.0.0.1:7676/')
    expect(dashboardUrl('::1', 7676)).toBe('http://[::1]:7676/')
  })
})
