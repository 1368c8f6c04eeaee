#!/usr/bin/env node
/**
 * A real Wechaty puppet-service gateway for pingan-bot's end-to-end tests.
 *
 * It runs the npm `wechaty-puppet-service` PuppetServer (plaintext gRPC, the only
 * thing the python client speaks) over `wechaty-puppet-mock`, populated from a JSON
 * fixture, so the python bot talks to exactly the protocol it meets in production.
 * A small HTTP control server on another loopback port lets a test make contacts
 * speak and read back everything the bot sent.
 *
 * Usage:
 *   node puppet-server.js --fixture F.json --port GRPC_PORT --token TOKEN [--control-port P]
 * (PUPPET_PORT, PUPPET_TOKEN, PUPPET_FIXTURE, PUPPET_CONTROL_PORT work too.)
 *
 * Fixture:
 *   { "self": "平安助手",
 *     "contacts": ["李警官", {"name": "", "id": "wxid_noname"},
 *                  {"name": "李警官", "id": "wxid_impostor", "friend": false}],
 *     "rooms": [{"topic": "官园社区警民联系群1", "members": ["张大妈", "李警官"]},
 *               {"topic": "", "id": "notopic@chatroom", "members": ["张大妈"]}] }
 * `"login": false` in the fixture keeps the account logged out (waiting for a scan).
 * Ids are derived from names unless given, so a restarted server (same fixture)
 * presents the same ids, like a real account does after a gateway restart. A room
 * member given by name is the person whose id derives from that name (the
 * original); an impostor sharing the name is given by its id. A second room with a
 * topic already taken gets an id derived from "topic#2" (then #3...).
 *
 * When both servers listen, one JSON line goes to stdout:
 *   {"event": "listening", "grpcPort": 1234, "controlPort": 5678}
 * Everything else (wechaty logs) goes to stderr.
 *
 * Control API (JSON in and out):
 *   POST /say    {"from": name|id, "room": topic|id (omit for a private chat),
 *                 "text": "...", "mentions": [name|id|{"id": raw id}...],
 *                 "type": "text"|"image"|"voice"|"location"|"mini-program"|"recalled"|
 *                 "unknown"|"chat-history"|"group-note"|"transfer"|"red-envelope"|"url"|
 *                 "video"|"post",
 *                 "id": optional message id; an id already used re-emits that message}
 *                -> {"messageId": "..."}
 *   POST /topic  {"room": topic|id, "topic": "new topic"}  rename a room
 *   POST /contact {"name": "...", "id": optional, "friend": true|false, "rooms": [topic|id]}
 *                -> {"id", "name"}  a new person (a second one may share a name:
 *                   an impostor), added to those rooms
 *   POST /room   {"topic": "...", "id": optional, "members": [name|id|{"id"}...]}
 *                -> {"id", "topic", "members": [{"id", "name"}]}  a new room (it may copy
 *                   a topic)
 *   GET  /world  -> {"self": id, "contacts": [{"id", "name", "friend"}],
 *                    "rooms": [{"id", "topic", "members": [ids]}]}
 *   POST /logout {}  the account is logged out (it logs in again when a client reconnects)
 *   GET  /sent   -> [{"seq", "room"|null, "roomId"|null, "contact"|null, "contactId"|null,
 *                     "text", "mentions": [names], "mentionIds": [ids], "file": name|null,
 *                     "at": ms}]
 * A speaker, room or mention given by a name or topic that several share is an
 * error: give the id.
 *   GET  /state  -> {"loggedIn": bool, "ready": bool}
 */
import crypto from 'node:crypto'
import fs from 'node:fs'
import http from 'node:http'
import { parseArgs } from 'node:util'

import * as PUPPET from 'wechaty-puppet'
import { PuppetMock, mock } from 'wechaty-puppet-mock'
import { PuppetServer } from 'wechaty-puppet-service'

const MESSAGE_TYPES = {
  text: PUPPET.types.Message.Text,
  image: PUPPET.types.Message.Image,
  voice: PUPPET.types.Message.Audio,
  location: PUPPET.types.Message.Location,
  'mini-program': PUPPET.types.Message.MiniProgram,
  recalled: PUPPET.types.Message.Recalled,
  unknown: PUPPET.types.Message.Unknown,
  'chat-history': PUPPET.types.Message.ChatHistory,
  'group-note': PUPPET.types.Message.GroupNote,
  transfer: PUPPET.types.Message.Transfer,
  'red-envelope': PUPPET.types.Message.RedEnvelope,
  url: PUPPET.types.Message.Url,
  video: PUPPET.types.Message.Video,
  post: PUPPET.types.Message.Post,
}

function readOptions () {
  const { values } = parseArgs({
    options: {
      fixture: { type: 'string', default: process.env.PUPPET_FIXTURE },
      port: { type: 'string', default: process.env.PUPPET_PORT },
      token: { type: 'string', default: process.env.PUPPET_TOKEN },
      'control-port': { type: 'string', default: process.env.PUPPET_CONTROL_PORT || '0' },
    },
  })
  if (!values.fixture || !values.port || !values.token) {
    console.error('usage: puppet-server.js --fixture F.json --port PORT --token TOKEN [--control-port P]')
    process.exit(2)
  }
  return {
    fixture: JSON.parse(fs.readFileSync(values.fixture, 'utf8')),
    port: Number(values.port),
    token: values.token,
    controlPort: Number(values['control-port']),
  }
}

/** Stable ids: the same name gives the same id in every run of the server. */
function stableId (prefix, key, suffix = '') {
  return prefix + crypto.createHash('sha1').update(key).digest('hex').slice(0, 12) + suffix
}

/** A stable id not in `taken`: from `key`, else from "key#2", "key#3"... */
function freshId (taken, prefix, key, suffix = '') {
  let id = stableId(prefix, key, suffix)
  for (let n = 2; taken.has(id); n++) {
    id = stableId(prefix, `${key}#${n}`, suffix)
  }
  return id
}

function asPerson (entry) {
  return typeof entry === 'string' ? { name: entry } : entry
}

/**
 * Contacts and rooms of the fixture, created in the mocker, with lookups by the
 * names a test uses (and by id, for the nameless and topicless edge cases).
 */
class World {
  constructor (mocker, fixture) {
    this.mocker = mocker
    this.contacts = new Map() // id -> ContactMock
    this.rooms = new Map() // id -> RoomMock
    this.user = this.addContact({ name: fixture.self, id: fixture.selfId }, true)
    for (const entry of fixture.contacts || []) {
      const person = asPerson(entry)
      this.addContact(person, person.friend !== false) // {"friend": false}: known, not a friend
    }
    for (const room of fixture.rooms || []) {
      this.addRoom(room)
    }
  }

  addContact ({ name, id }, friend) {
    const contactId = id || stableId('wxid_', name)
    const existing = this.contacts.get(contactId)
    if (existing) {
      return existing
    }
    return this.createContact(contactId, name, friend)
  }

  /** A new person, even one whose name is taken (an impostor): never an existing one. */
  newContact ({ name, id, friend = true }) {
    if (id && this.contacts.has(id)) {
      throw new Error(`contact id ${id} exists`)
    }
    return this.createContact(id || freshId(this.contacts, 'wxid_', name), name, friend)
  }

  createContact (contactId, name, friend) {
    const contact = this.mocker.createContact({
      id: contactId,
      name,
      friend,
      alias: undefined,
      type: PUPPET.types.Contact.Individual,
    })
    this.contacts.set(contactId, contact)
    return contact
  }

  addRoom ({ topic, id, members }) {
    if (id && this.rooms.has(id)) {
      throw new Error(`room id ${id} exists`)
    }
    // Room ids must contain `@`: that is how the mock tells rooms from contacts.
    const roomId = id || freshId(this.rooms, '', topic, '@chatroom')
    // Room members who are not listed as contacts exist too, but are not friends.
    const memberIdList = [this.user.id]
    for (const entry of members || []) {
      const member = typeof entry === 'string' && this.contacts.has(entry)
        ? this.contacts.get(entry)
        : this.addContact(asPerson(entry), false)
      memberIdList.push(member.id)
    }
    const room = this.mocker.createRoom({
      id: roomId,
      topic,
      memberIdList,
      adminIdList: [],
      ownerId: this.user.id,
    })
    this.rooms.set(roomId, room)
    return room
  }

  contact (nameOrId) {
    if (this.contacts.has(nameOrId)) {
      return this.contacts.get(nameOrId)
    }
    const found = [...this.contacts.values()].filter(c => c.payload.name === nameOrId)
    return only(found, `contact named ${JSON.stringify(nameOrId)}`)
  }

  room (topicOrId) {
    if (this.rooms.has(topicOrId)) {
      return this.rooms.get(topicOrId)
    }
    const found = [...this.rooms.values()].filter(r => this.topicOf(r.id) === topicOrId)
    return only(found, `room with topic ${JSON.stringify(topicOrId)}`)
  }

  /** Make `contact` a member of `room` (a contact added after the start joins rooms). */
  async join (puppet, room, contact) {
    const payload = this.mocker.roomPayload(room.id)
    if (!payload.memberIdList.includes(contact.id)) {
      this.mocker.roomPayload(room.id, { ...payload, memberIdList: [...payload.memberIdList, contact.id] })
      await puppet.roomPayloadDirty(room.id)
    }
  }

  describe () {
    return {
      self: this.user.id,
      contacts: [...this.contacts.values()].map(c => ({ id: c.id, name: c.payload.name, friend: c.payload.friend })),
      rooms: [...this.rooms.keys()].map(id => ({ id, topic: this.topicOf(id), members: this.mocker.roomPayload(id).memberIdList })),
    }
  }

  nameOf (contactId) {
    const contact = this.contacts.get(contactId)
    return contact ? contact.payload.name : contactId
  }

  topicOf (roomId) {
    return this.mocker.roomPayload(roomId).topic
  }
}

/** The one match, or an error that says why there is not exactly one. */
function only (found, what) {
  if (found.length === 1) {
    return found[0]
  }
  throw new Error(found.length ? `${found.length} matches for ${what}: give the id` : `no ${what}`)
}

/**
 * PuppetMock ignores the mention list of a sent text and returns no message id
 * (the python client then tries to load message ""), so sends are recorded and
 * turned into real mock messages here.
 */
class RecordingPuppet extends PuppetMock {
  constructor (options) {
    super(options)
    this.sent = []
    this.world = undefined
  }

  async messageSendText (conversationId, text, mentionIdList = []) {
    return this.recordAndEcho(conversationId, { text, mentionIdList })
  }

  async messageSendFile (conversationId, fileBox) {
    return this.recordAndEcho(conversationId, { fileBox })
  }

  recordAndEcho (conversationId, { text, mentionIdList = [], fileBox }) {
    if (!this.isLoggedIn) {
      throw new Error('not logged in')
    }
    const isRoom = conversationId.includes('@')
    this.sent.push({
      seq: this.sent.length + 1,
      room: isRoom ? this.world.topicOf(conversationId) : null,
      roomId: isRoom ? conversationId : null,
      contact: isRoom ? null : this.world.nameOf(conversationId),
      contactId: isRoom ? null : conversationId,
      text: text ?? '',
      mentions: mentionIdList.map(id => this.world.nameOf(id)),
      mentionIds: [...mentionIdList],
      file: fileBox ? fileBox.name : null,
      at: Date.now(),
    })
    // Echo it back as a message event, as WeChat does with the account's own messages.
    return emitMessage(this, {
      talkerId: this.currentUserId,
      roomId: isRoom ? conversationId : undefined,
      listenerId: isRoom ? undefined : conversationId,
      text: text ?? '',
      mentionIdList,
      fileBox,
      type: fileBox ? PUPPET.types.Message.Attachment : PUPPET.types.Message.Text,
    })
  }
}

function emitMessage (puppet, { id, talkerId, roomId, listenerId, text, mentionIdList, fileBox, type }) {
  const payload = {
    id: id || crypto.randomUUID(),
    talkerId,
    timestamp: Date.now(),
    type,
    text,
    ...(roomId ? { roomId, mentionIdList: mentionIdList || [] } : { listenerId }),
  }
  if (fileBox) {
    puppet.mocker.cacheFileBoxPayload.set(payload.id, fileBox.toJSON())
  }
  puppet.mocker.MessageMock.create(payload)
  puppet.emit('message', { messageId: payload.id })
  return payload.id
}

/**
 * The python client calls stop() then start() on the puppet each time it connects,
 * and stop() logs the account out; so log in again on every start, then say
 * `ready` (the mock never does).
 */
function loginOnEveryStart (world, fixture) {
  return function loginBehaviour (mocker) {
    const timer = setTimeout(() => {
      if (fixture.login === false) {
        return // an account waiting for its QR code to be scanned
      }
      if (!mocker.puppet.isLoggedIn) {
        mocker.login(world.user)
      }
      mocker.puppet.emit('ready', { data: 'ready' })
    }, 0)
    return () => clearTimeout(timer)
  }
}

function say (puppet, world, request) {
  const type = MESSAGE_TYPES[request.type || 'text']
  if (type === undefined) {
    throw new Error(`unknown message type ${request.type}`)
  }
  if (request.id && puppet.mocker.cacheMessagePayload.has(request.id)) {
    // The same message id again: what a flaky gateway redelivering looks like.
    puppet.emit('message', { messageId: request.id })
    return request.id
  }
  const talker = world.contact(request.from)
  const room = request.room !== undefined && request.room !== null ? world.room(request.room) : undefined
  // A mention given as {"id": "..."} goes on the wire as is, even an id nobody has
  // (what a gateway sends for someone who left WeChat or who it cannot look up).
  const mentionIdList = (request.mentions || []).map(
    entry => typeof entry === 'object' && entry !== null ? entry.id : world.contact(entry).id)
  let text = request.text ?? ''
  if (type === PUPPET.types.Message.Recalled && !request.text) {
    text = 'recalled-' + crypto.randomUUID()
  } else if (type !== PUPPET.types.Message.Text && request.text === undefined) {
    text = `<msg type="${request.type}"/>`
  }
  return emitMessage(puppet, {
    id: request.id,
    talkerId: talker.id,
    roomId: room?.id,
    listenerId: room ? undefined : world.user.id,
    text,
    mentionIdList,
    type,
  })
}

async function addContact (puppet, world, { name, id, friend, rooms }) {
  if (typeof name !== 'string') {
    throw new Error('a contact needs a name')
  }
  const targets = (rooms || []).map(room => world.room(room)) // check all before changing anything
  const contact = world.newContact({ name, id, friend: friend !== false })
  for (const room of targets) {
    await world.join(puppet, room, contact)
  }
  return { id: contact.id, name: contact.payload.name }
}

function addRoom (world, { topic, id, members }) {
  if (typeof topic !== 'string') {
    throw new Error('a room needs a topic')
  }
  const room = world.addRoom({ topic, id, members })
  const memberIds = world.mocker.roomPayload(room.id).memberIdList.filter(m => m !== world.user.id)
  return { id: room.id, topic, members: memberIds.map(m => ({ id: m, name: world.nameOf(m) })) }
}

async function renameRoom (puppet, world, { room, topic }) {
  const target = world.room(room)
  const payload = puppet.mocker.roomPayload(target.id)
  const oldTopic = payload.topic
  puppet.mocker.roomPayload(target.id, { ...payload, topic })
  await puppet.roomPayloadDirty(target.id)
  puppet.emit('room-topic', {
    roomId: target.id,
    newTopic: topic,
    oldTopic,
    changerId: world.user.id,
    timestamp: Date.now(),
  })
}

function readBody (req) {
  return new Promise((resolve, reject) => {
    const chunks = []
    req.on('data', chunk => chunks.push(chunk))
    req.on('end', () => {
      try {
        resolve(chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : {})
      } catch (e) {
        reject(e)
      }
    })
    req.on('error', reject)
  })
}

function controlServer (puppet, world) {
  const routes = {
    'POST /say': async body => ({ messageId: say(puppet, world, body) }),
    'POST /topic': async body => { await renameRoom(puppet, world, body); return { ok: true } },
    'POST /logout': async () => { await puppet.logout('kicked out by the test'); return { ok: true } },
    'POST /contact': async body => addContact(puppet, world, body),
    'POST /room': async body => addRoom(world, body),
    'GET /world': async () => world.describe(),
    'GET /sent': async () => puppet.sent,
    'GET /state': async () => ({
      loggedIn: puppet.isLoggedIn,
      ready: Boolean(puppet.readyIndicator.value()),
    }),
  }
  return http.createServer(async (req, res) => {
    const route = routes[`${req.method} ${req.url.split('?')[0]}`]
    const reply = (status, obj) => {
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' })
      res.end(JSON.stringify(obj))
    }
    if (!route) {
      return reply(404, { error: `no route ${req.method} ${req.url}` })
    }
    try {
      reply(200, await route(await readBody(req)))
    } catch (e) {
      reply(400, { error: e.message })
    }
  })
}

function listen (server, port) {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, '127.0.0.1', () => resolve(server.address().port))
  })
}

async function main () {
  const options = readOptions()
  const mocker = new mock.Mocker()
  const puppet = new RecordingPuppet({ mocker })
  const world = new World(mocker, options.fixture)
  puppet.world = world
  mocker.use(loginOnEveryStart(world, options.fixture))

  const puppetServer = new PuppetServer({
    endpoint: `127.0.0.1:${options.port}`,
    puppet,
    token: options.token,
    tls: { disable: true },
  })
  await puppetServer.start()

  const control = controlServer(puppet, world)
  const controlPort = await listen(control, options.controlPort)
  process.stdout.write(JSON.stringify({ event: 'listening', grpcPort: options.port, controlPort }) + '\n')

  const shutdown = async () => {
    control.close()
    await puppetServer.stop().catch(() => {})
    process.exit(0)
  }
  process.on('SIGTERM', shutdown)
  process.on('SIGINT', shutdown)
}

main().catch(e => {
  console.error(e)
  process.exit(1)
})
